"""Pairwise distances between query and gallery features."""
from typing import Iterator, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ['compute_distance', 'distance_chunks', 'DISTANCE_METRICS']

#: Names accepted by :func:`compute_distance`.
DISTANCE_METRICS = ('cosine', 'euclidean')

ArrayLike = Union[torch.Tensor, np.ndarray]


def _as_feature_tensor(feats: ArrayLike, name: str) -> torch.Tensor:
    """Convert features to a 2-D floating point tensor.

    Args:
        feats (torch.Tensor | np.ndarray): Features, shape ``(N, C)``.
        name (str): Argument name used in error messages.

    Returns:
        torch.Tensor: Shape ``(N, C)``, float32 or float64 (half precision
        and integer inputs are promoted to float32).
    """
    feats = torch.as_tensor(feats)
    if feats.ndim != 2:
        raise ValueError(f'`{name}` must be 2-D (N, C), got shape '
                         f'{tuple(feats.shape)}.')
    if feats.dtype not in (torch.float32, torch.float64):
        feats = feats.float()
    return feats


def distance_chunks(query_feats: ArrayLike,
                    gallery_feats: ArrayLike,
                    metric: str = 'cosine',
                    chunk_size: int = 1024
                    ) -> Iterator[Tuple[int, torch.Tensor]]:
    """Query-to-gallery distances, one chunk of query rows at a time.

    The gallery is never copied (it may be large): cosine divides the
    products by the gallery norms instead of normalising the gallery. See
    :func:`compute_distance` for the metrics.

    Args:
        query_feats (torch.Tensor | np.ndarray): Shape ``(Q, C)``.
        gallery_feats (torch.Tensor | np.ndarray): Shape ``(G, C)``.
        metric (str): ``'cosine'`` or ``'euclidean'``. Defaults to
            ``'cosine'``.
        chunk_size (int): Query rows per chunk. Defaults to 1024.

    Yields:
        tuple[int, torch.Tensor]: The first query row of the chunk and its
        distances, shape ``(n, G)`` with ``n <= chunk_size``, on the device
        of ``query_feats``; float32 unless an input is float64.
    """
    if metric not in DISTANCE_METRICS:
        raise ValueError(f'Unknown distance metric {metric!r}; expected one '
                         f'of {DISTANCE_METRICS}.')
    if chunk_size < 1:
        raise ValueError(f'`chunk_size` must be >= 1, got {chunk_size}.')
    q = _as_feature_tensor(query_feats, 'query_feats')
    g = _as_feature_tensor(gallery_feats, 'gallery_feats')
    if q.shape[1] != g.shape[1]:
        raise ValueError('Query and gallery features have different '
                         f'dimensions: {q.shape[1]} vs {g.shape[1]}.')
    dtype = torch.promote_types(q.dtype, g.dtype)
    q = q.to(dtype)
    g = g.to(device=q.device, dtype=dtype)
    g_t = g.t()
    if metric == 'cosine':
        g_term = torch.linalg.vector_norm(g, dim=1).clamp_(min=1e-12)[None]
    else:
        g_term = torch.linalg.vector_norm(g, dim=1).pow_(2)[None]
    for start in range(0, q.shape[0], chunk_size):
        q_chunk = q[start:start + chunk_size]
        if metric == 'cosine':
            q_chunk = F.normalize(q_chunk, p=2, dim=1)
            dist = torch.mm(q_chunk, g_t).div_(g_term)
            yield start, dist.neg_().add_(1.0)
        else:  # |q|^2 + |g|^2 - 2 q.g, clamped at 0
            q_sq = q_chunk.pow(2).sum(dim=1, keepdim=True)  # (n, 1)
            dist = torch.mm(q_chunk, g_t).mul_(-2.0)
            yield start, dist.add_(q_sq).add_(g_term).clamp_(min=0).sqrt_()


def compute_distance(query_feats: ArrayLike,
                     gallery_feats: ArrayLike,
                     metric: str = 'cosine',
                     chunk_size: int = 1024) -> torch.Tensor:
    """Compute the query-to-gallery distance matrix, in query chunks.

    ``cosine`` is ``1 - cos(q, g)`` (features are L2-normalised first, so
    it lies in ``[0, 2]``); ``euclidean`` is the L2 distance
    ``||q - g||_2`` (computed via ``|q|^2 + |g|^2 - 2 q.g``, clamped at 0).
    Only ``chunk_size`` query rows are processed at a time, which bounds the
    temporaries.

    Args:
        query_feats (torch.Tensor | np.ndarray): Query features, shape
            ``(Q, C)``.
        gallery_feats (torch.Tensor | np.ndarray): Gallery features, shape
            ``(G, C)``.
        metric (str): ``'cosine'`` or ``'euclidean'``. Defaults to
            ``'cosine'``.
        chunk_size (int): Number of query rows per chunk. Defaults to 1024.

    Returns:
        torch.Tensor: Distances, shape ``(Q, G)``, on the device of
        ``query_feats``; float32 unless an input is float64.
    """
    num_query = len(query_feats)
    out = None
    for start, dist in distance_chunks(query_feats, gallery_feats, metric,
                                       chunk_size):
        if out is None:
            out = dist.new_empty((num_query, dist.shape[1]))
        out[start:start + dist.shape[0]] = dist
    if out is None:  # no query: the dtype and device a chunk would have
        q = _as_feature_tensor(query_feats, 'query_feats')
        g = _as_feature_tensor(gallery_feats, 'gallery_feats')
        out = q.new_empty((0, g.shape[0]),
                          dtype=torch.promote_types(q.dtype, g.dtype))
    return out

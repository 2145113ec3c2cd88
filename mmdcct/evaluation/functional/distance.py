"""Pairwise distances between query and gallery features."""
from typing import Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ['compute_distance', 'DISTANCE_METRICS']

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


def _prepare_pair(query_feats: ArrayLike, gallery_feats: ArrayLike,
                  metric: str) -> Tuple[torch.Tensor, torch.Tensor,
                                        Optional[torch.Tensor]]:
    """Validate the features and precompute the gallery-side terms.

    Args:
        query_feats (torch.Tensor | np.ndarray): Shape ``(Q, C)``.
        gallery_feats (torch.Tensor | np.ndarray): Shape ``(G, C)``.
        metric (str): ``'cosine'`` or ``'euclidean'``.

    Returns:
        tuple: ``q`` (shape ``(Q, C)``), ``g_t`` (the transposed, for cosine
        L2-normalised, gallery, shape ``(C, G)``) and ``g_sq`` (squared
        gallery norms, shape ``(G,)``, or None for cosine), with a common
        dtype on the device of ``query_feats``.
    """
    if metric not in DISTANCE_METRICS:
        raise ValueError(f'Unknown distance metric {metric!r}; expected one '
                         f'of {DISTANCE_METRICS}.')
    q = _as_feature_tensor(query_feats, 'query_feats')
    g = _as_feature_tensor(gallery_feats, 'gallery_feats')
    if q.shape[1] != g.shape[1]:
        raise ValueError('Query and gallery features have different '
                         f'dimensions: {q.shape[1]} vs {g.shape[1]}.')
    dtype = torch.promote_types(q.dtype, g.dtype)
    q = q.to(dtype)
    g = g.to(device=q.device, dtype=dtype)
    if metric == 'cosine':
        return q, F.normalize(g, p=2, dim=1).t(), None
    return q, g.t(), g.pow(2).sum(dim=1)


def _chunk_distance(q_chunk: torch.Tensor, g_t: torch.Tensor,
                    g_sq: Optional[torch.Tensor]) -> torch.Tensor:
    """Distances of one chunk of queries to the prepared gallery.

    Args:
        q_chunk (torch.Tensor): Query features, shape ``(n, C)``.
        g_t (torch.Tensor): Prepared gallery, shape ``(C, G)``.
        g_sq (torch.Tensor, optional): Squared gallery norms, shape
            ``(G,)`` for the Euclidean distance, None for cosine.

    Returns:
        torch.Tensor: Shape ``(n, G)``.
    """
    if g_sq is None:  # cosine
        q_chunk = F.normalize(q_chunk, p=2, dim=1)
        return torch.mm(q_chunk, g_t).neg_().add_(1.0)
    q_sq = q_chunk.pow(2).sum(dim=1, keepdim=True)  # (n, 1)
    dist = torch.mm(q_chunk, g_t).mul_(-2.0)
    return dist.add_(q_sq).add_(g_sq[None]).clamp_(min=0).sqrt_()


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
    if chunk_size < 1:
        raise ValueError(f'`chunk_size` must be >= 1, got {chunk_size}.')
    q, g_t, g_sq = _prepare_pair(query_feats, gallery_feats, metric)
    out = q.new_empty((q.shape[0], g_t.shape[1]))
    for start in range(0, q.shape[0], chunk_size):
        out[start:start + chunk_size] = _chunk_distance(
            q[start:start + chunk_size], g_t, g_sq)
    return out

"""Pairwise distances between query and gallery features."""
from typing import Tuple, Union

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


def _prepare_pair(
        query_feats: ArrayLike, gallery_feats: ArrayLike,
        metric: str) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Validate the features and precompute the gallery-side terms.

    The gallery is never copied (it may be large): cosine divides the
    products by the gallery norms instead of normalising the gallery.

    Args:
        query_feats (torch.Tensor | np.ndarray): Shape ``(Q, C)``.
        gallery_feats (torch.Tensor | np.ndarray): Shape ``(G, C)``.
        metric (str): ``'cosine'`` or ``'euclidean'``.

    Returns:
        tuple: ``q`` (shape ``(Q, C)``), ``g_t`` (the transposed gallery, a
        view, shape ``(C, G)``) and ``g_term`` (shape ``(G,)``: the gallery
        L2 norms, clamped at 1e-12, for cosine; the squared norms for
        Euclidean), with a common dtype on the device of ``query_feats``.
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
        g_term = torch.linalg.vector_norm(g, dim=1).clamp_(min=1e-12)
    else:
        g_term = torch.linalg.vector_norm(g, dim=1).pow_(2)
    return q, g.t(), g_term


def _chunk_distance(q_chunk: torch.Tensor, g_t: torch.Tensor,
                    g_term: torch.Tensor, metric: str) -> torch.Tensor:
    """Distances of one chunk of queries to the prepared gallery.

    Args:
        q_chunk (torch.Tensor): Query features, shape ``(n, C)``.
        g_t (torch.Tensor): Transposed gallery, shape ``(C, G)``.
        g_term (torch.Tensor): Gallery norms (cosine) or squared norms
            (Euclidean), shape ``(G,)``.
        metric (str): ``'cosine'`` or ``'euclidean'``.

    Returns:
        torch.Tensor: Shape ``(n, G)``.
    """
    if metric == 'cosine':
        q_chunk = F.normalize(q_chunk, p=2, dim=1)
        dist = torch.mm(q_chunk, g_t).div_(g_term[None])
        return dist.neg_().add_(1.0)
    q_sq = q_chunk.pow(2).sum(dim=1, keepdim=True)  # (n, 1)
    dist = torch.mm(q_chunk, g_t).mul_(-2.0)
    return dist.add_(q_sq).add_(g_term[None]).clamp_(min=0).sqrt_()


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
    q, g_t, g_term = _prepare_pair(query_feats, gallery_feats, metric)
    out = q.new_empty((q.shape[0], g_t.shape[1]))
    for start in range(0, q.shape[0], chunk_size):
        out[start:start + chunk_size] = _chunk_distance(
            q[start:start + chunk_size], g_t, g_term, metric)
    return out

"""Average query expansion (AQE) of query and gallery features."""
from typing import Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from .re_ranking import _topk_stable

__all__ = ['average_query_expansion']

ArrayLike = Union[torch.Tensor, np.ndarray]

# Similarities handled per chunk of rows (rows x (Q+G)).
_CHUNK_ELEMENTS = 1 << 23


def average_query_expansion(query_feats: ArrayLike,
                            gallery_feats: ArrayLike,
                            k: int = 5,
                            alpha: float = 3.0,
                            times: int = 1,
                            chunk_size: int = None
                            ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Average query expansion with alpha weights (alpha-QE).

    Every query and gallery feature ``f_i`` is replaced by
    ``mean_j(s_ij ** alpha * f_j)`` over its ``k`` most cosine-similar
    features ``j`` among all query and gallery features (itself included),
    with ``s_ij`` their cosine similarity (Radenovic et al., TPAMI 2019),
    as fast-reid's ``aqe(query_feat, gallery_feat, qe_times, qe_k, alpha)``
    does. ``times`` repeats it on the expanded features. The features are
    averaged as given (not normalised): compare them with the cosine
    distance, or normalise them first for the Euclidean one. Neighbours of
    equal similarity are taken in index order.

    Args:
        query_feats (torch.Tensor | np.ndarray): Shape ``(Q, C)``.
        gallery_feats (torch.Tensor | np.ndarray): Shape ``(G, C)``.
        k (int): Neighbours averaged, the feature itself included.
            Defaults to 5.
        alpha (float): Exponent of the similarity weights. Defaults to 3.0.
        times (int): Rounds of expansion. Defaults to 1.
        chunk_size (int, optional): Rows of the ``(Q+G) x (Q+G)``
            similarity handled at once. Defaults to None (about 8M values).

    Returns:
        tuple[torch.Tensor, torch.Tensor]: The expanded query ``(Q, C)`` and
        gallery ``(G, C)`` features, float32, on the input's device.

    Raises:
        ValueError: On bad arguments, or when a neighbour has a negative
            similarity and ``alpha`` is not an integer (its power would be
            NaN).
    """
    if int(k) != k or k < 1:
        raise ValueError(f'average_query_expansion: `k` must be a positive '
                         f'integer, got {k}.')
    if int(times) != times or times < 0:
        raise ValueError('average_query_expansion: `times` must be a '
                         f'non-negative integer, got {times}.')
    q = torch.as_tensor(query_feats)
    g = torch.as_tensor(gallery_feats)
    if q.ndim != 2 or g.ndim != 2 or q.shape[1] != g.shape[1]:
        raise ValueError('average_query_expansion: features must be 2-D '
                         '(N, C) with the same C, got '
                         f'{tuple(q.shape)} and {tuple(g.shape)}.')
    num_query = q.shape[0]
    feats = torch.cat([q.float(), g.to(q.device).float()])
    num_all = feats.shape[0]
    k = min(int(k), num_all)
    rows = chunk_size or max(1, _CHUNK_ELEMENTS // max(num_all, 1))
    integer_alpha = float(alpha).is_integer()
    for _ in range(int(times)):
        normed = F.normalize(feats, p=2, dim=1)
        expanded = torch.empty_like(feats)
        for start in range(0, num_all, rows):
            sims = torch.mm(normed[start:start + rows], normed.t())
            neighbours = torch.from_numpy(
                _topk_stable(sims.neg().cpu().numpy(), k)).to(feats.device)
            weights = torch.gather(sims, 1, neighbours)
            if not integer_alpha and bool((weights < 0).any()):
                raise ValueError(
                    'average_query_expansion: a neighbour has a negative '
                    f'cosine similarity and alpha={alpha} is not an integer '
                    '(its power is undefined); use an integer alpha or a '
                    'smaller k.')
            weights = weights.pow(alpha)
            expanded[start:start + rows] = torch.einsum(
                'nk,nkc->nc', weights, feats[neighbours]) / k
        feats = expanded
    return feats[:num_query], feats[num_query:]

"""k-reciprocal re-ranking (Zhong et al., "Re-ranking Person
Re-identification with k-reciprocal Encoding", CVPR 2017).

The algorithm is the authors' public ``re_ranking(q_g_dist, q_q_dist,
g_g_dist, k1, k2, lambda_value)`` (also shipped by torchreid and fast-reid),
restated with sparse matrices so that no ``(Q+G) x (Q+G)`` array is built:

1. the ``N = Q + G`` probes are ranked against each other one chunk of rows
   at a time, keeping only the ``k1 + 1`` nearest neighbours of every row
   (ties broken by the lower index);
2. the k-reciprocal sets ``R(p, k1)`` (Eq. 6), their expansion with the
   ``R(c, k1 / 2)`` of the members ``c`` that share more than 2/3 of theirs
   (Eq. 7) and the Gaussian-kernel weights (Eq. 9, from the distances of
   the pairs alone) form a sparse ``V``;
3. local query expansion (Eq. 10) averages ``V`` over the ``k2`` nearest
   neighbours (a sparse product);
4. the Jaccard distance (Eq. 11) of every query to every gallery entry is
   accumulated from the non-zeros of ``V`` shared by the two, in chunks of
   queries, and mixed with the original distance (Eq. 12).

Peak memory is the ``(Q, G)`` result plus ``O(chunk x N)`` temporaries and
the sparse ``V`` (``O(N x k1 x k2)`` non-zeros).
"""
from typing import Callable, Optional, Tuple, Union

import numpy as np
import scipy.sparse as sp
import torch

from .distance import DISTANCE_METRICS, distance_chunks

__all__ = ['re_ranking', 're_ranking_from_features']

ArrayLike = Union[torch.Tensor, np.ndarray]

# Distances handled per chunk of rows (rows x N): 2**23 float32 values are
# 32 MiB, plus a few temporaries of the same size.
_CHUNK_ELEMENTS = 1 << 23
# Query-gallery pairs sharing a non-zero of V handled at once in step 4.
_PAIR_BUDGET = 1 << 23

# A function returning the rows ``[start, stop)`` of the N x N original
# distance matrix (not squared), shape ``(stop - start, N)``.
RowFn = Callable[[int, int], np.ndarray]
# A function returning its entries ``(rows[p], cols[p])``, shape ``(P,)``.
PairFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _to_numpy(x: ArrayLike, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        if x.dtype in (torch.float16, torch.bfloat16):
            x = x.float()
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f'`{name}` must be 2-D, got shape {x.shape}.')
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f'`{name}` contains NaN or inf values.')
    return x


def _normalised_rows(rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Squared distances as float32, divided by their row maximum (the
    reference code's ``d ** 2 / max(d ** 2, axis=0)``, transposed)."""
    sq = np.power(rows, 2).astype(np.float32, copy=False)
    row_max = sq.max(axis=1)
    # all-zero rows would divide 0 by 0 (NaN in the reference); they keep 0
    safe = np.where(row_max > 0, row_max, np.float32(1))
    return sq / safe[:, None], safe


def _topk_stable(dist: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` smallest values of every row, ascending, ties
    broken by the lower index (``argsort(kind='stable')[:, :k]``).

    Args:
        dist (np.ndarray): Shape ``(n, N)``.
        k (int): ``1 <= k <= N``.

    Returns:
        np.ndarray: int64, shape ``(n, k)``.
    """
    n, num = dist.shape
    if k >= num:
        return np.argsort(dist, axis=1, kind='stable')
    kth = np.partition(dist, k - 1, axis=1)[:, k - 1:k]
    rows, cols = np.nonzero(dist <= kth)  # >= k per row, row-major order
    order = np.lexsort((cols, dist[rows, cols], rows))
    rows, cols = rows[order], cols[order]
    starts = np.searchsorted(rows, np.arange(n))
    take = starts[:, None] + np.arange(k)[None]
    return cols[take]


def _reciprocal(rank: np.ndarray, k: int, num: int) -> sp.csr_matrix:
    """Boolean ``R[i, j]``: ``j`` among the ``k + 1`` first of row ``i`` and
    ``i`` among the ``k + 1`` first of row ``j``."""
    cols = rank[:, :k + 1]
    rows = np.repeat(np.arange(num), cols.shape[1])
    forward = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.int8), (rows, cols.reshape(-1))),
        shape=(num, num))
    return forward.multiply(forward.T).tocsr()


def _rerank_core(row_fn: RowFn, pair_fn: PairFn, num_query: int,
                 num_all: int, k1: int, k2: int, lambda_value: float,
                 chunk_size: Optional[int]) -> np.ndarray:
    """Re-ranked ``(Q, G)`` distances from a provider of original rows."""
    rows_per_chunk = chunk_size or max(1, _CHUNK_ELEMENTS // num_all)
    num_gallery = num_all - num_query
    width = min(max(k1 + 1, k2), num_all)

    # 1. nearest neighbours of every probe; the normalised query-gallery
    # distances (Eq. 12) are kept
    rank = np.empty((num_all, width), dtype=np.int64)
    row_max = np.empty(num_all, dtype=np.float32)
    original_qg = np.empty((num_query, num_gallery), dtype=np.float32)
    for start in range(0, num_all, rows_per_chunk):
        stop = min(start + rows_per_chunk, num_all)
        dist, row_max[start:stop] = _normalised_rows(row_fn(start, stop))
        rank[start:stop] = _topk_stable(dist, width)
        if start < num_query:
            q_stop = min(stop, num_query)
            original_qg[start:q_stop] = dist[:q_stop - start, num_query:]
        del dist

    # 2. k-reciprocal sets, expanded with the qualifying half-k sets (Eq. 7)
    recip = _reciprocal(rank, k1, num_all)
    half = _reciprocal(rank, int(np.around(k1 / 2.)), num_all)
    # |R(c, k1/2) & R(i, k1)| for every c in R(i, k1)
    shared = (recip.astype(np.int32) @ half.T.astype(np.int32)).tocsr()
    shared = shared.multiply(recip).tocsr()
    half_size = np.asarray(half.sum(axis=1)).reshape(-1)
    coo = recip.tocoo()
    inter = np.asarray(shared[coo.row, coo.col]).reshape(-1)
    keep = inter > 2. / 3 * half_size[coo.col]
    kept = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.int32),
         (coo.row[keep], coo.col[keep])),
        shape=(num_all, num_all))
    expansion = (recip.astype(np.int32) + kept @ half.astype(np.int32))
    expansion = expansion.tocsr()
    expansion.sum_duplicates()
    expansion.sort_indices()

    # Gaussian-kernel weights exp(-d), normalised per row (Eq. 9)
    indptr = expansion.indptr
    row_of = np.repeat(np.arange(num_all), np.diff(indptr))
    sq = np.power(pair_fn(row_of, expansion.indices), 2).astype(np.float32)
    weights = np.exp(-(sq / row_max[row_of]))
    sums = np.bincount(row_of, weights=weights, minlength=num_all)
    vals = (weights / sums[row_of]).astype(np.float32)
    v = sp.csr_matrix((vals, expansion.indices, indptr),
                      shape=(num_all, num_all))

    # 3. local query expansion (Eq. 10); skipped for k2 == 1 as the
    # reference code does
    if k2 != 1:
        k2 = min(k2, num_all)
        qe_rows = np.repeat(np.arange(num_all), k2)
        qe = sp.csr_matrix((np.full(qe_rows.size, 1. / k2, dtype=np.float32),
                            (qe_rows, rank[:, :k2].reshape(-1))),
                           shape=(num_all, num_all))
        v = (qe @ v).tocsr()
        v.eliminate_zeros()
    del rank, recip, half, shared, kept, expansion

    # 4. Jaccard distance (Eq. 11): sum_k min(V[q, k], V[g, k]) over the
    # k where both are non-zero, then Eq. 12
    v_query = v[:num_query].tocsr()
    v_gallery = v[num_query:].tocsc()
    g_ptr, g_rows, g_vals = (v_gallery.indptr, v_gallery.indices,
                             v_gallery.data)
    col_nnz = np.diff(g_ptr)
    q_ptr = v_query.indptr
    pairs_per_entry = col_nnz[v_query.indices]
    pairs_per_query = np.add.reduceat(
        np.append(pairs_per_entry, 0), q_ptr[:-1]) * (np.diff(q_ptr) > 0)
    q_budget = max(1, _PAIR_BUDGET // max(num_gallery, 1))
    final = original_qg  # filled in place: Eq. 12 row by row
    start = 0
    while start < num_query:
        # grow the chunk while the pairs and the dense block fit the budget
        stop = start + 1
        pairs = int(pairs_per_query[start])
        while (stop < num_query and stop - start < q_budget
               and pairs + pairs_per_query[stop] <= _PAIR_BUDGET):
            pairs += int(pairs_per_query[stop])
            stop += 1
        lo, hi = q_ptr[start], q_ptr[stop]
        ks = v_query.indices[lo:hi]
        q_vals = v_query.data[lo:hi]
        q_local = np.repeat(
            np.arange(stop - start), np.diff(q_ptr[start:stop + 1]))
        reps = col_nnz[ks]
        # ragged gather of the gallery non-zeros of every column k
        offsets = np.repeat(g_ptr[ks] - np.cumsum(reps) + reps, reps)
        flat = offsets + np.arange(int(reps.sum()))
        mins = np.minimum(np.repeat(q_vals, reps), g_vals[flat])
        index = np.repeat(q_local, reps) * num_gallery + g_rows[flat]
        temp_min = np.bincount(
            index, weights=mins,
            minlength=(stop - start) * num_gallery).astype(np.float32)
        temp_min = temp_min.reshape(stop - start, num_gallery)
        jaccard = 1 - temp_min / (2. - temp_min)
        block = final[start:stop]
        block *= lambda_value
        block += jaccard * (1 - lambda_value)
        start = stop
    return final


def _check_params(k1: int, k2: int, lambda_value: float) -> None:
    if int(k1) != k1 or k1 < 1:
        raise ValueError(f're_ranking: `k1` must be a positive integer, got '
                         f'{k1}.')
    if int(k2) != k2 or k2 < 1:
        raise ValueError(f're_ranking: `k2` must be a positive integer, got '
                         f'{k2}.')
    if not 0 <= lambda_value <= 1:
        raise ValueError('re_ranking: `lambda_value` must lie in [0, 1], '
                         f'got {lambda_value}.')


def re_ranking(q_g_dist: ArrayLike,
               q_q_dist: ArrayLike,
               g_g_dist: ArrayLike,
               k1: int = 20,
               k2: int = 6,
               lambda_value: float = 0.3,
               chunk_size: Optional[int] = None) -> np.ndarray:
    """k-reciprocal re-ranking of query-gallery distances.

    Same inputs, output and arithmetic as the authors' public
    ``re_ranking`` (Zhong et al., CVPR 2017), which squares the distances
    and divides every row by its maximum before ranking, so the result does
    not change when all distances are scaled by the same factor. The
    authors feed the Euclidean distance of the features; torchreid feeds
    its squared Euclidean or cosine (``1 - cos``) distance. Neighbours at
    equal distance are ordered by index (the reference's ``argsort`` leaves
    that order unspecified); a row of zeros (a probe identical to all
    others) stays zero instead of the reference's NaN.

    Args:
        q_g_dist (torch.Tensor | np.ndarray): Query-gallery distances,
            shape ``(Q, G)``.
        q_q_dist (torch.Tensor | np.ndarray): Query-query distances, shape
            ``(Q, Q)``.
        g_g_dist (torch.Tensor | np.ndarray): Gallery-gallery distances,
            shape ``(G, G)``.
        k1 (int): Size of the k-reciprocal neighbourhood. Defaults to 20.
        k2 (int): Neighbours averaged by the local query expansion (1 turns
            it off). Defaults to 6.
        lambda_value (float): Weight of the original distance in the final
            one (Eq. 12). Defaults to 0.3.
        chunk_size (int, optional): Rows of the ``(Q+G)`` distance matrix
            handled at once. Defaults to None (about 8M distances).

    Returns:
        np.ndarray: Re-ranked distances, float32, shape ``(Q, G)``.
    """
    _check_params(k1, k2, lambda_value)
    q_g = _to_numpy(q_g_dist, 'q_g_dist')
    q_q = _to_numpy(q_q_dist, 'q_q_dist')
    g_g = _to_numpy(g_g_dist, 'g_g_dist')
    num_query, num_gallery = q_g.shape
    if q_q.shape != (num_query, num_query):
        raise ValueError(f'`q_q_dist` must have shape ({num_query}, '
                         f'{num_query}) to match `q_g_dist` {q_g.shape}, got '
                         f'{q_q.shape}.')
    if g_g.shape != (num_gallery, num_gallery):
        raise ValueError(f'`g_g_dist` must have shape ({num_gallery}, '
                         f'{num_gallery}) to match `q_g_dist` {q_g.shape}, '
                         f'got {g_g.shape}.')
    if num_query == 0 or num_gallery == 0:
        return np.zeros((num_query, num_gallery), dtype=np.float32)

    def row_fn(start: int, stop: int) -> np.ndarray:
        # row i of the reference's transposed matrix is column i of
        # [[q_q, q_g], [q_g.T, g_g]] (the same for symmetric inputs)
        q_start, q_stop = min(start, num_query), min(stop, num_query)
        g_start, g_stop = max(start, num_query), max(stop, num_query)
        parts = []
        if q_stop > q_start:
            parts.append(
                np.concatenate([q_q[:, q_start:q_stop].T, q_g[q_start:q_stop]],
                               axis=1))
        if g_stop > g_start:
            sl = slice(g_start - num_query, g_stop - num_query)
            parts.append(np.concatenate([q_g[:, sl].T, g_g[:, sl].T], axis=1))
        return np.concatenate(parts, axis=0)

    def pair_fn(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        # entry (i, j) of the transposed matrix: [[q_q, q_g], [q_g.T, g_g]]
        # at (j, i)
        out = np.empty(rows.shape, dtype=q_g.dtype)
        for row_q in (True, False):
            for col_q in (True, False):
                sel = ((rows < num_query) == row_q) & (
                    (cols < num_query) == col_q)
                i = rows[sel] - (0 if row_q else num_query)
                j = cols[sel] - (0 if col_q else num_query)
                if row_q and col_q:
                    out[sel] = q_q[j, i]
                elif row_q:
                    out[sel] = q_g[i, j]
                elif col_q:
                    out[sel] = q_g[j, i]
                else:
                    out[sel] = g_g[j, i]
        return out

    return _rerank_core(row_fn, pair_fn, num_query, num_query + num_gallery,
                        k1, k2, lambda_value, chunk_size)


def re_ranking_from_features(query_feats: ArrayLike,
                             gallery_feats: ArrayLike,
                             metric: str = 'euclidean',
                             k1: int = 20,
                             k2: int = 6,
                             lambda_value: float = 0.3,
                             chunk_size: Optional[int] = None) -> np.ndarray:
    """k-reciprocal re-ranking straight from features.

    Equivalent to :func:`re_ranking` fed with the ``metric`` distances
    (:func:`~mmdcct.evaluation.functional.compute_distance`) of the query
    and gallery features (up to float rounding), but the distance rows are
    computed on the fly instead of being held: memory stays
    ``O(chunk x (Q+G))`` besides the ``(Q, G)`` result, whatever the
    gallery size.

    Args:
        query_feats (torch.Tensor | np.ndarray): Shape ``(Q, C)``.
        gallery_feats (torch.Tensor | np.ndarray): Shape ``(G, C)``.
        metric (str): ``'euclidean'`` (the authors' choice) or
            ``'cosine'``. Defaults to ``'euclidean'``.
        k1 (int): See :func:`re_ranking`. Defaults to 20.
        k2 (int): See :func:`re_ranking`. Defaults to 6.
        lambda_value (float): See :func:`re_ranking`. Defaults to 0.3.
        chunk_size (int, optional): See :func:`re_ranking`.

    Returns:
        np.ndarray: Re-ranked distances, float32, shape ``(Q, G)``.
    """
    _check_params(k1, k2, lambda_value)
    if metric not in DISTANCE_METRICS:
        raise ValueError(f'Unknown distance metric {metric!r}; expected one '
                         f'of {DISTANCE_METRICS}.')
    q = torch.as_tensor(query_feats)
    g = torch.as_tensor(gallery_feats)
    if q.ndim != 2 or g.ndim != 2 or q.shape[1] != g.shape[1]:
        raise ValueError('re_ranking_from_features: features must be 2-D '
                         '(N, C) with the same C, got '
                         f'{tuple(q.shape)} and {tuple(g.shape)}.')
    num_query, num_gallery = q.shape[0], g.shape[0]
    if num_query == 0 or num_gallery == 0:
        return np.zeros((num_query, num_gallery), dtype=np.float32)
    feats = torch.cat([q.float(), g.to(q.device).float()])
    if not bool(torch.isfinite(feats).all()):
        raise ValueError('re_ranking_from_features: the features contain '
                         'NaN or inf values.')

    def row_fn(start: int, stop: int) -> np.ndarray:
        chunks = distance_chunks(feats[start:stop], feats, metric,
                                 stop - start)
        return next(chunks)[1].cpu().numpy()

    norms = torch.linalg.vector_norm(feats, dim=1)
    pairs_per_chunk = max(1, _CHUNK_ELEMENTS // feats.shape[1])

    def pair_fn(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        # the formulas of distance_chunks, one pair at a time
        out = torch.empty(rows.shape[0], dtype=feats.dtype)
        for lo in range(0, rows.shape[0], pairs_per_chunk):
            i = torch.from_numpy(rows[lo:lo + pairs_per_chunk]).to(
                feats.device)
            j = torch.from_numpy(cols[lo:lo + pairs_per_chunk]).to(
                feats.device)
            dot = (feats[i] * feats[j]).sum(dim=1)
            if metric == 'cosine':
                dist = 1 - dot / norms[i].clamp(min=1e-12) / norms[j].clamp(
                    min=1e-12)
            else:
                dist = (norms[i].pow(2) + norms[j].pow(2) - 2 * dot).clamp(
                    min=0).sqrt()
            out[lo:lo + len(i)] = dist.cpu()
        return out.numpy()

    return _rerank_core(row_fn, pair_fn, num_query, len(feats), k1, k2,
                        lambda_value, chunk_size)

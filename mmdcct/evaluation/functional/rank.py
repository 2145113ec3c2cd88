"""Gallery ranking and camera-aware CMC / mAP / mINP (MARS protocol).

The ranking order, used by every function here: ascending distance, ties
broken by gallery index (a stable sort).

The evaluation protocol:

* for every query, the gallery entries with the same identity **and** the
  same camera are removed ("junk");
* a query whose kept entries hold no true match (same identity, other
  camera) is skipped and counted;
* CMC rank-k is the fraction of valid queries with a true match among the
  first k kept entries; AP is the mean of precision@k over the (1-based)
  ranks k of the true matches (no interpolation); INP is
  ``#true matches / rank of the last true match``; mAP and mINP average over
  the valid queries. All are returned in percent.

:func:`evaluate_rank` needs only the positions of the same-identity entries
(true matches and junk) in the ranking, and a query has few. The 0-based
position of entry ``(q, g)`` with distance ``v`` in the stable order of row
``q`` is ``#{g': d[q, g'] < v} + #{g' < g: d[q, g'] == v}``: a binary search
in the row sorted by value (``np.sort`` of values is far cheaper than a
stable ``argsort``), plus, only when ``v`` occurs twice in the row, a direct
count. Only the entries up to a query's last true match can precede a true
match, so with good features only those few are sorted. Ranks among the kept
entries and hit counts follow from cumulative sums per query.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .distance import distance_chunks

__all__ = ['evaluate_rank', 'evaluate_rank_from_features', 'rank_topk']

ArrayLike = Union[torch.Tensor, np.ndarray, Sequence]

# Distances ranked per chunk of queries (rows x gallery size): 2**23 float32
# values are 32 MiB, plus at most as much for the sorted copy.
_CHUNK_ELEMENTS = 1 << 23
# Fewest query rows per chunk when distances are computed from features:
# thin matrix products are markedly slower per row.
_MIN_FEATURE_CHUNK_ROWS = 256


def _chunk_rows(num_gallery: int, chunk_size: Optional[int],
                min_rows: int = 1) -> int:
    if chunk_size is None:
        return max(min_rows, _CHUNK_ELEMENTS // max(num_gallery, 1))
    if chunk_size < 1:
        raise ValueError(f'`chunk_size` must be >= 1, got {chunk_size}.')
    return int(chunk_size)


def _to_numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        if x.dtype in (torch.float16, torch.bfloat16):
            x = x.float()
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _as_labels(x: ArrayLike, name: str, length: int) -> np.ndarray:
    arr = _to_numpy(x)
    if arr.ndim != 1 or arr.shape[0] != length:
        raise ValueError(f'`{name}` must have shape ({length},), got '
                         f'{arr.shape}.')
    return arr


def _as_distmat(distmat: ArrayLike) -> np.ndarray:
    """``(Q, G)`` float32/float64 numpy distances without NaN (other dtypes
    become float64, which is exact for all of them)."""
    dist = _to_numpy(distmat)
    if dist.ndim != 2:
        raise ValueError(f'`distmat` must be 2-D (Q, G), got shape '
                         f'{dist.shape}.')
    if dist.dtype not in (np.float32, np.float64):
        dist = dist.astype(np.float64)
    if np.isnan(dist).any():
        raise ValueError('`distmat` contains NaN values.')
    return dist


def _normalize_topk(topk: Union[int, Sequence[int]]) -> Tuple[int, ...]:
    """``topk`` as a tuple of unique positive ints."""
    ks = (topk, ) if isinstance(topk, (int, np.integer)) else tuple(topk)
    if not ks or any(int(k) != k or int(k) < 1 for k in ks):
        raise ValueError(f'`topk` values must be positive integers, got '
                         f'{topk}.')
    return tuple(dict.fromkeys(int(k) for k in ks))


def _stable_positions(dist: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                      limits: np.ndarray) -> np.ndarray:
    """0-based positions of entries in the stable ascending order of their
    rows, i.e. ``argsort(argsort(dist, kind='stable'))[rows, cols]``, for
    the entries no farther than their row's limit; the entries beyond it
    get a position after all of those.

    Args:
        dist (np.ndarray): Distances, shape ``(n, G)``.
        rows (np.ndarray): Row of every entry, sorted, shape ``(P,)``.
        cols (np.ndarray): Gallery index of every entry, shape ``(P,)``.
        limits (np.ndarray): Per-row limit, shape ``(n,)``.

    Returns:
        np.ndarray: int64 positions, shape ``(P,)``.
    """
    n, num_gallery = dist.shape
    near = dist <= limits[:, None]
    if 2 * np.count_nonzero(near) < near.size:
        # few entries within the limits (good features): sort only those
        flat_index = np.flatnonzero(near)
        near = dist.reshape(-1)[flat_index]
        near_bounds = np.searchsorted(flat_index,
                                      np.arange(n + 1) * num_gallery)
        for i in range(n):
            near[near_bounds[i]:near_bounds[i + 1]].sort()
    else:
        near = np.sort(dist, axis=1).reshape(-1)
        near_bounds = np.arange(n + 1) * num_gallery

    values = dist[rows, cols]
    pos = np.empty(rows.shape[0], dtype=np.int64)
    bounds = np.searchsorted(rows, np.arange(n + 1))
    for i in np.flatnonzero(bounds[1:] > bounds[:-1]):
        sl = slice(bounds[i], bounds[i + 1])
        row = near[near_bounds[i]:near_bounds[i + 1]]
        pos[sl] = np.searchsorted(row, values[sl], 'left')  # #{d < v}
        tied = np.searchsorted(row, values[sl], 'right') - pos[sl] > 1
        # ties: the equal entries with a smaller gallery index come first
        for j in sl.start + np.flatnonzero(tied):
            pos[j] += np.count_nonzero(dist[i, :cols[j]] == values[j])
    return pos


def _rank_chunk(dist: np.ndarray, q_pids: np.ndarray, q_camids: np.ndarray,
                g_order: np.ndarray, g_sorted_pids: np.ndarray,
                g_camids: np.ndarray) -> Tuple[np.ndarray, ...]:
    """Per-query ``ap``, ``inp`` (fractions, NaN if skipped) and
    ``first_rank`` (1-based among the kept entries, 0 if skipped), each of
    shape ``(n,)``, for distances ``dist`` ``(n, G)``; ``g_order`` is the
    stable argsort of the gallery ids and ``g_sorted_pids`` the ids in it."""
    n = dist.shape[0]
    # the same-id entries, grouped by query (from the sorted gallery ids);
    # only the entries up to a query's last true match can precede one
    lo = np.searchsorted(g_sorted_pids, q_pids, side='left')
    counts = np.searchsorted(g_sorted_pids, q_pids, side='right') - lo
    rows = np.repeat(np.arange(n), counts)
    cols = g_order[np.arange(rows.shape[0]) +
                   np.repeat(lo - np.cumsum(counts) + counts, counts)]
    true = g_camids[cols] != q_camids[rows]
    last_true = np.full(n, -np.inf, dtype=dist.dtype)
    np.maximum.at(last_true, rows[true], dist[rows[true], cols[true]])
    pos = _stable_positions(dist, rows, cols, last_true)
    order = np.lexsort((pos, rows))
    rows, pos, junk = rows[order], pos[order], ~true[order]

    # within-query counts of junk / true entries ranked before each entry
    start = np.searchsorted(rows, rows)
    junk_cum = np.concatenate(([0], np.cumsum(junk)))
    true_cum = np.concatenate(([0], np.cumsum(~junk)))
    index = np.arange(rows.shape[0])
    true = ~junk
    rows_t = rows[true]
    kept_rank = (pos - (junk_cum[index] - junk_cum[start]))[true] + 1
    num_hits = (true_cum[index] - true_cum[start])[true] + 1

    ap, inp = np.full(n, np.nan), np.full(n, np.nan)
    first_rank = np.zeros(n, dtype=np.int64)
    num_true = np.bincount(rows_t, minlength=n)
    valid = num_true > 0
    ap_sum = np.bincount(rows_t, weights=num_hits / kept_rank, minlength=n)
    ap[valid] = ap_sum[valid] / num_true[valid]
    is_first = num_hits == 1
    first_rank[rows_t[is_first]] = kept_rank[is_first]
    is_last = num_hits == num_true[rows_t]
    inp[rows_t[is_last]] = num_hits[is_last] / kept_rank[is_last]
    return ap, inp, first_rank


def _evaluate(chunks, q_pids: ArrayLike, g_pids: ArrayLike,
              q_camids: ArrayLike, g_camids: ArrayLike, num_query: int,
              num_gallery: int,
              topk: Union[int, Sequence[int]]) -> Dict[str, Union[float, int]]:
    """Rank ``(start, distances)`` chunks and reduce to the metric dict."""
    if num_query == 0 or num_gallery == 0:
        raise ValueError(f'Empty query ({num_query}) or gallery '
                         f'({num_gallery}).')
    q_pids = _as_labels(q_pids, 'q_pids', num_query)
    q_camids = _as_labels(q_camids, 'q_camids', num_query)
    g_pids = _as_labels(g_pids, 'g_pids', num_gallery)
    g_camids = _as_labels(g_camids, 'g_camids', num_gallery)
    topk = _normalize_topk(topk)
    g_order = np.argsort(g_pids, kind='stable')

    ap, inp = np.empty(num_query), np.empty(num_query)
    first_rank = np.empty(num_query, dtype=np.int64)
    for start, dist in chunks:
        sl = slice(start, start + dist.shape[0])
        ap[sl], inp[sl], first_rank[sl] = _rank_chunk(
            _as_distmat(dist), q_pids[sl], q_camids[sl], g_order,
            g_pids[g_order], g_camids)

    valid = ~np.isnan(ap)
    num_valid = int(valid.sum())
    if num_valid == 0:
        raise ValueError(
            f'None of the {num_query} queries has a true match in the '
            'gallery (same id, different camera) after removing the '
            'same-id-same-camera entries, so CMC/mAP are undefined. Check '
            'that the gallery holds the query identities from other cameras '
            '(MARS appends the query tracklets to the gallery) and that the '
            'ids/cameras are passed in the right order.')
    results: Dict[str, Union[float, int]] = {
        'mAP': float(ap[valid].mean() * 100.0),
        'mINP': float(inp[valid].mean() * 100.0),
    }
    for k in topk:
        results[f'R{k}'] = float(
            np.count_nonzero(first_rank[valid] <= k) * 100.0 / num_valid)
    results['num_valid_queries'] = num_valid
    results['num_skipped_queries'] = num_query - num_valid
    return results


def evaluate_rank(
        distmat: ArrayLike,
        q_pids: ArrayLike,
        g_pids: ArrayLike,
        q_camids: ArrayLike,
        g_camids: ArrayLike,
        topk: Union[int, Sequence[int]] = (1, 5, 10, 20),
        chunk_size: Optional[int] = None) -> Dict[str, Union[float, int]]:
    """Camera-aware CMC, mAP and mINP (MARS protocol), vectorised.

    Args:
        distmat (torch.Tensor | np.ndarray): Query-to-gallery distances,
            shape ``(Q, G)``; smaller is more similar. Must not contain NaN.
        q_pids, q_camids (ArrayLike): Query ids / cameras, shape ``(Q,)``.
        g_pids, g_camids (ArrayLike): Gallery ids / cameras, shape ``(G,)``.
        topk (int | Sequence[int]): CMC ranks to report, one ``R{k}`` key
            each. Defaults to ``(1, 5, 10, 20)``.
        chunk_size (int, optional): Queries ranked at once; memory is
            ``O(chunk_size x G)``. Defaults to None (about 8M distances per
            chunk). Results do not depend on it.

    Returns:
        dict: ``mAP``, ``mINP`` and ``R{k}`` for every ``k`` in ``topk``
        (floats, in percent, averaged over the valid queries), plus
        ``num_valid_queries`` and ``num_skipped_queries`` (ints).

    Raises:
        ValueError: If the shapes do not match, ``distmat`` has NaN, or no
            query has a true match.
    """
    dist = _to_numpy(distmat)
    if dist.ndim != 2:
        raise ValueError(f'`distmat` must be 2-D (Q, G), got shape '
                         f'{dist.shape}.')
    rows = _chunk_rows(dist.shape[1], chunk_size)
    chunks = ((s, dist[s:s + rows]) for s in range(0, dist.shape[0], rows))
    return _evaluate(chunks, q_pids, g_pids, q_camids, g_camids,
                     dist.shape[0], dist.shape[1], topk)


def evaluate_rank_from_features(
        query_feats: Union[torch.Tensor, np.ndarray],
        gallery_feats: Union[torch.Tensor, np.ndarray],
        q_pids: ArrayLike,
        g_pids: ArrayLike,
        q_camids: ArrayLike,
        g_camids: ArrayLike,
        metric: str = 'cosine',
        topk: Union[int, Sequence[int]] = (1, 5, 10, 20),
        chunk_size: Optional[int] = None) -> Dict[str, Union[float, int]]:
    """:func:`evaluate_rank` on ``compute_distance(query, gallery)`` without
    materialising the ``(Q, G)`` matrix: distances are computed and ranked
    one chunk of queries at a time (peak memory ``O(chunk_size x G)``).

    Args:
        query_feats (torch.Tensor | np.ndarray): Shape ``(Q, C)``.
        gallery_feats (torch.Tensor | np.ndarray): Shape ``(G, C)``.
        q_pids, g_pids, q_camids, g_camids (ArrayLike): As in
            :func:`evaluate_rank`.
        metric (str): ``'cosine'`` or ``'euclidean'``, see
            :func:`compute_distance`. Defaults to ``'cosine'``.
        topk (int | Sequence[int]): CMC ranks to report. Defaults to
            ``(1, 5, 10, 20)``.
        chunk_size (int, optional): Queries per chunk. Defaults to None
            (about 8M distances per chunk, at least 256 queries).

    Returns:
        dict: See :func:`evaluate_rank`.
    """
    num_query, num_gallery = len(query_feats), len(gallery_feats)
    rows = _chunk_rows(num_gallery, chunk_size, _MIN_FEATURE_CHUNK_ROWS)
    chunks = distance_chunks(query_feats, gallery_feats, metric, rows)
    return _evaluate(chunks, q_pids, g_pids, q_camids, g_camids, num_query,
                     num_gallery, topk)


def rank_topk(distmat: ArrayLike,
              topk: Optional[int] = None,
              exclude: Optional[ArrayLike] = None
              ) -> Tuple[np.ndarray, np.ndarray]:
    """The first ``topk`` gallery entries of every query in the ranking
    order (ascending distance, ties by gallery index).

    Args:
        distmat (torch.Tensor | np.ndarray): Distances, shape ``(Q, G)``.
        topk (int, optional): Entries per query, clipped to ``G``. Defaults
            to None (all).
        exclude (ArrayLike, optional): Boolean mask ``(Q, G)`` of entries
            left out of the ranking (e.g. same id and camera). Defaults to
            None.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``indices`` (int64, ``(Q, k)``, into
        the gallery) and ``distances`` (``(Q, k)``, the input precision);
        rows with fewer than ``k`` entries left are padded with index -1 and
        distance ``inf``.
    """
    dist = _as_distmat(distmat)
    num_query, num_gallery = dist.shape
    k = num_gallery if topk is None else min(int(topk), num_gallery)
    if k < 1:
        raise ValueError(f'`topk` must be >= 1, got {topk}.')
    keep = np.ones(dist.shape, dtype=bool)
    if exclude is not None:
        keep = ~_to_numpy(exclude).astype(bool)
        if keep.shape != dist.shape:
            raise ValueError(f'`exclude` must have shape {dist.shape}, got '
                             f'{keep.shape}.')
    # every kept entry no farther than the k-th smallest kept distance, then
    # those sorted by (query, distance); lexsort is stable and np.nonzero
    # lists the entries by index, so ties keep the gallery order
    if k < num_gallery:
        kth = np.partition(np.where(keep, dist, np.inf), k - 1, axis=1)
        keep = keep & (dist <= kth[:, k - 1:k])
    rows, cols = np.nonzero(keep)
    values = dist[rows, cols]
    order = np.lexsort((values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    place = np.arange(rows.shape[0]) - np.searchsorted(rows, rows)
    first = place < k
    indices = np.full((num_query, k), -1, dtype=np.int64)
    distances = np.full((num_query, k), np.inf, dtype=dist.dtype)
    indices[rows[first], place[first]] = cols[first]
    distances[rows[first], place[first]] = values[first]
    return indices, distances

"""Camera-aware CMC / mAP / mINP for video person Re-ID (MARS protocol).

The protocol (see the DCCT spec, section 6):

* for every query, the gallery entries with the same identity **and** the same
  camera are removed ("junk");
* the remaining ("kept") gallery entries are ranked by ascending distance; ties
  are broken by gallery index (a stable sort);
* a query whose kept entries hold no true match (same identity, other camera)
  is skipped and counted;
* CMC rank-k is the fraction of valid queries with a true match among the
  first k kept entries; AP is the mean of precision@k over the (1-based) ranks
  k of the true matches (no interpolation); INP is ``#true matches / rank of
  the last true match``; mAP and mINP average over the valid queries. All are
  returned in percent.

Implementation
--------------
No per-query loop and no ``argsort`` of the distance matrix. Only the ranks
of the *same-identity* entries matter (true matches and junk), and a query
has few of them; they are enumerated directly from the gallery ids sorted
once. The 0-based position of such an entry ``(q, g)`` with distance ``v`` in
the stable order of row ``q`` is::

    #{g': d[q, g'] < v} + #{g' < g: d[q, g'] == v}

Only the "candidates" — entries no farther than the row's last true match —
can precede a true match. Two ways to count, chosen per chunk of queries:

* few candidates (good features; typically a few percent): each gets a
  packed 64-bit key ``row | float32 bits | index`` (the float bits mapped to
  an order-preserving unsigned integer), the keys are sorted once — rows stay
  apart, ties are broken by index — and every same-identity entry finds its
  exact position with one ``np.searchsorted``;
* many candidates (poor features): the rows are sorted by float32 value
  (``np.sort`` of values, on a few threads, is several times faster than a
  stable ``argsort``) and a vectorised per-row binary search gives
  ``#{d < v}``; the rare entries whose value is shared with another entry
  (``#{d <= v} > #{d < v} + 1``) are recounted exactly; if there are very
  many such ties the packed keys of the whole rows are sorted instead.

float64 distances are ranked in float32 when that is exact (checked); where
distinct float64 values collide once rounded to float32, the positions are
recounted in float64.

The ranked same-identity entries of a query then give everything by
cumulative sums: the rank among the kept entries is the position minus the
junk entries before it, and the number of true matches up to it is the
precision numerator. Queries are processed in chunks, which bounds the memory
to ``O(chunk x G)``; every per-query value is independent of the chunking,
of the path taken and of the threads, so the results are too.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .distance import _chunk_distance, _prepare_pair

__all__ = ['evaluate_rank', 'evaluate_rank_from_features']

ArrayLike = Union[torch.Tensor, np.ndarray, Sequence]

# Elements of the distance matrix handled per chunk (rows x gallery size):
# 2**23 float32 values are 32 MiB; the packed keys of the candidates add at
# most 8 bytes each (typically a few percent of the entries are candidates).
_CHUNK_ELEMENTS = 1 << 23
# Fewest query rows per chunk when distances are computed from features:
# thinner matrix products are markedly slower (83 x 512 @ 512 x 100k takes
# ~2x longer per row than 256 x 512 @ 512 x 100k on a 2-core CPU).
_MIN_FEATURE_CHUNK_ROWS = 256


def _to_numpy(x: ArrayLike) -> np.ndarray:
    """Convert a tensor / array / sequence to a numpy array (no copy if
    possible)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _as_labels(x: ArrayLike, name: str, length: int) -> np.ndarray:
    """Validate and convert an id / camera vector.

    Args:
        x (ArrayLike): Labels, shape ``(N,)``.
        name (str): Argument name used in error messages.
        length (int): Expected length ``N``.

    Returns:
        np.ndarray: Shape ``(N,)``.
    """
    arr = _to_numpy(x)
    if arr.ndim != 1 or arr.shape[0] != length:
        raise ValueError(f'`{name}` must have shape ({length},), got '
                         f'{arr.shape}.')
    return arr


def _as_query_gallery_labels(q_pids: ArrayLike, q_camids: ArrayLike,
                             g_pids: ArrayLike, g_camids: ArrayLike,
                             num_query: int, num_gallery: int) -> tuple:
    """Validate and convert the id / camera vectors of query and gallery.

    Returns:
        tuple: ``q_pids``, ``q_camids`` (shape ``(Q,)``), ``g_pids``,
        ``g_camids`` (shape ``(G,)``) as numpy arrays.
    """
    return (_as_labels(q_pids, 'q_pids', num_query),
            _as_labels(q_camids, 'q_camids', num_query),
            _as_labels(g_pids, 'g_pids', num_gallery),
            _as_labels(g_camids, 'g_camids', num_gallery))


def _as_distmat(distmat: ArrayLike) -> np.ndarray:
    """Convert the distance matrix to a float32/float64 numpy array.

    Args:
        distmat (ArrayLike): Distances, shape ``(Q, G)``.

    Returns:
        np.ndarray: Shape ``(Q, G)``, float32 or float64. Other dtypes
        (half, integers, bool) are converted to float64, which is exact for
        all of them.
    """
    if isinstance(distmat, torch.Tensor) and distmat.dtype in (torch.float16,
                                                               torch.bfloat16):
        distmat = distmat.float()
    dist = _to_numpy(distmat)
    if dist.ndim != 2:
        raise ValueError(f'`distmat` must be 2-D (Q, G), got shape '
                         f'{dist.shape}.')
    if dist.dtype not in (np.float32, np.float64):
        dist = dist.astype(np.float64)
    return dist


def _normalize_topk(topk: Union[int, Sequence[int]]) -> Tuple[int, ...]:
    """Validate ``topk`` and return it as a tuple of unique positive ints."""
    if isinstance(topk, (int, np.integer)):
        topk = (topk, )
    out = []
    for k in topk:
        if int(k) != k or int(k) < 1:
            raise ValueError(f'`topk` values must be positive integers, got '
                             f'{topk}.')
        if int(k) not in out:
            out.append(int(k))
    if not out:
        raise ValueError('`topk` must not be empty.')
    return tuple(out)


def _default_num_threads() -> int:
    """Number of threads used to sort the distance rows (at most 8)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


def _chunk_rows(num_gallery: int,
                chunk_size: Optional[int],
                min_rows: int = 1) -> int:
    """Number of query rows per chunk (``chunk_size`` if given), capped so
    that ``row | 32 value bits | gallery index`` fits in 64 bits."""
    if chunk_size is None:
        rows = max(min_rows, _CHUNK_ELEMENTS // max(num_gallery, 1))
    elif chunk_size < 1:
        raise ValueError(f'`chunk_size` must be >= 1, got {chunk_size}.')
    else:
        rows = int(chunk_size)
    return min(rows, 1 << (32 - _index_bits(num_gallery)))


def _index_bits(num_gallery: int) -> int:
    """Bits holding a gallery index in the packed keys."""
    bits = max(1, int(num_gallery - 1).bit_length())
    if bits > 31:
        raise ValueError(f'Gallery too large: {num_gallery} entries.')
    return bits


class _GalleryIndex:
    """Gallery ids sorted once, to list the same-id entries of queries.

    Args:
        g_pids (np.ndarray): Gallery ids, shape ``(G,)``.
    """

    def __init__(self, g_pids: np.ndarray) -> None:
        self.order = np.argsort(g_pids, kind='stable')
        self.sorted_pids = g_pids[self.order]

    def pairs(self, q_pids: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """All ``(query, gallery)`` pairs with the same id.

        Args:
            q_pids (np.ndarray): Query ids, shape ``(n,)``.

        Returns:
            tuple[np.ndarray, np.ndarray]: ``rows`` and ``cols`` (int64,
            shape ``(P,)``), grouped by row, gallery index ascending.
        """
        lo = np.searchsorted(self.sorted_pids, q_pids, side='left')
        hi = np.searchsorted(self.sorted_pids, q_pids, side='right')
        counts = hi - lo
        rows = np.repeat(np.arange(q_pids.shape[0], dtype=np.int64), counts)
        shift = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        cols = self.order[np.arange(rows.shape[0], dtype=np.int64) + shift]
        return rows, cols.astype(np.int64, copy=False)


def _ordered_bits(values: np.ndarray) -> np.ndarray:
    """Map float32 values to uint64 integers with the same order.

    ``-0.0`` is mapped like ``0.0`` (they compare equal); NaN is not
    allowed.

    Args:
        values (np.ndarray): float32 values, any shape.

    Returns:
        np.ndarray: uint64 values below ``2**32``, same shape.
    """
    bits = (values + np.float32(0.0)).view(np.uint32)
    flip = np.where(bits >> np.uint32(31), np.uint32(0xFFFFFFFF),
                    np.uint32(0x80000000))
    return (bits ^ flip).astype(np.uint64)


def _pack_keys(rows: np.ndarray, values32: np.ndarray, cols: np.ndarray,
               index_bits: int) -> np.ndarray:
    """Pack ``(row, value, gallery index)`` into order-preserving uint64.

    Args:
        rows (np.ndarray): Row indices, broadcastable to ``values32``.
        values32 (np.ndarray): float32 values, shape ``(N,)`` or
            ``(n, G)``.
        cols (np.ndarray | int): Gallery indices, broadcastable to
            ``values32``.
        index_bits (int): Bits reserved for the gallery index.

    Returns:
        np.ndarray: uint64 keys, shape of ``values32``.
    """
    keys = _ordered_bits(values32)
    keys <<= np.uint64(index_bits)
    keys |= np.asarray(rows).astype(np.uint64) << np.uint64(32 + index_bits)
    keys |= np.asarray(cols).astype(np.uint64)
    return keys


def _run_parallel(fn: Callable[[int], None], parts: int) -> None:
    """Run ``fn(0), ..., fn(parts - 1)`` on ``parts`` threads (numpy
    releases the GIL while sorting)."""
    if parts <= 1:
        for i in range(parts):
            fn(i)
        return
    with ThreadPoolExecutor(max_workers=parts) as pool:
        list(pool.map(fn, range(parts)))


def _sort_rows_inplace(array: np.ndarray, num_threads: int) -> None:
    """Sort every row of a 2-D array in place, rows split over threads.

    Args:
        array (np.ndarray): Shape ``(n, G)``.
        num_threads (int): Number of threads.
    """
    parts = min(num_threads, array.shape[0])
    if array.size < (1 << 16):
        parts = 1
    bounds = np.linspace(0, array.shape[0], parts + 1).astype(np.int64)

    def _sort(i: int) -> None:
        array[bounds[i]:bounds[i + 1]].sort(axis=1)

    _run_parallel(_sort, parts)


def _sort_row_segments(keys: np.ndarray, row_offsets: np.ndarray,
                       num_threads: int) -> None:
    """Sort packed keys in place, splitting the work by row ranges.

    Keys of different rows never interleave (the row is the top field), so
    sorting contiguous row ranges separately sorts the whole array.

    Args:
        keys (np.ndarray): uint64 keys grouped by row, shape ``(N,)``.
        row_offsets (np.ndarray): Start of every row in ``keys`` plus the
            end, shape ``(n + 1,)``.
        num_threads (int): Number of threads.
    """
    parts = min(num_threads, row_offsets.shape[0] - 1)
    if keys.shape[0] < (1 << 16):
        parts = 1
    # split where the number of keys is balanced
    cuts = np.searchsorted(row_offsets,
                           np.linspace(0, keys.shape[0], parts + 1)[1:-1])
    bounds = np.concatenate(([0], row_offsets[cuts], [keys.shape[0]]))

    def _sort(i: int) -> None:
        keys[bounds[i]:bounds[i + 1]].sort()

    _run_parallel(_sort, parts)


def _exact_positions(dist: np.ndarray,
                     rows: np.ndarray,
                     cols: np.ndarray,
                     num_less: Optional[np.ndarray] = None) -> np.ndarray:
    """Exact 0-based positions of a few entries in the stable order of their
    rows, for tied values.

    The position of ``(q, g)`` with value ``v`` is
    ``#{g': d[q, g'] < v} + #{g' < g: d[q, g'] == v}``. Only used for the
    entries whose value is shared with another entry (ties, or float64
    values colliding in float32); the loop runs over those entries only,
    each step being vectorised over (a prefix of) the row, which is far
    cheaper than gathering whole rows.

    Args:
        dist (np.ndarray): Distances, shape ``(n, G)``.
        rows (np.ndarray): Row of every entry, shape ``(P,)``.
        cols (np.ndarray): Gallery index of every entry, shape ``(P,)``.
        num_less (np.ndarray, optional): ``#{g': d[q, g'] < v}`` if already
            known, shape ``(P,)``. Defaults to None (counted here).

    Returns:
        np.ndarray: ``int64`` positions, shape ``(P,)``.
    """
    values = dist[rows, cols].tolist()
    out = np.empty(rows.shape[0], dtype=np.int64)
    for i, (r, c, v) in enumerate(zip(rows.tolist(), cols.tolist(), values)):
        row = dist[r]
        before = np.count_nonzero(row[:c] == v)
        if num_less is None:
            before += np.count_nonzero(row < v)
        out[i] = before
    if num_less is not None:
        out += num_less
    return out


def _row_searchsorted(sorted_rows: np.ndarray, rows: np.ndarray,
                      values: np.ndarray, right: bool) -> np.ndarray:
    """Vectorised per-row ``np.searchsorted`` (binary search of all probes
    at once).

    Args:
        sorted_rows (np.ndarray): Rows sorted ascending, shape ``(n, G)``,
            C-contiguous.
        rows (np.ndarray): Row index of every probe, shape ``(P,)``.
        values (np.ndarray): Probe values, shape ``(P,)``.
        right (bool): If True, count the entries ``<= value``, else the
            entries ``< value``.

    Returns:
        np.ndarray: ``int64`` counts, shape ``(P,)``.
    """
    num_gallery = sorted_rows.shape[1]
    flat = sorted_rows.reshape(-1)
    base = rows * num_gallery
    lo = np.zeros(rows.shape[0], dtype=np.int64)
    hi = np.full(rows.shape[0], num_gallery, dtype=np.int64)
    for _ in range(int(num_gallery).bit_length()):
        active = lo < hi
        mid = (lo + hi) >> 1
        x = flat[base + np.minimum(mid, num_gallery - 1)]
        go_right = (x <= values) if right else (x < values)
        go_right &= active
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)
    return lo


def _float_positions(dist: np.ndarray, dist32: np.ndarray, rows: np.ndarray,
                     cols: np.ndarray, values32: np.ndarray, exact32: bool,
                     num_threads: int) -> Optional[np.ndarray]:
    """Positions by binary search in the rows sorted by float32 value.

    Fastest when most entries precede some true match (poor features).
    ``#{d32 < v32}`` is the position unless another entry shares ``v32`` (a
    tie, or float64 values colliding in float32); those entries are
    recounted exactly — unless there are so many (more than ~32 per row)
    that the packed-key path is cheaper, in which case None is returned.

    Args:
        dist (np.ndarray): Distances in the input precision, ``(n, G)``.
        dist32 (np.ndarray): The same as float32, ``(n, G)``.
        rows (np.ndarray): Row of every probe, ``(P,)``.
        cols (np.ndarray): Gallery index of every probe, ``(P,)``.
        values32 (np.ndarray): ``dist32[rows, cols]``, ``(P,)``.
        exact32 (bool): Whether ``dist32`` equals ``dist`` exactly.
        num_threads (int): Threads used to sort.

    Returns:
        np.ndarray | None: ``int64`` positions, shape ``(P,)``, or None.
    """
    sorted_rows = np.array(dist32, order='C', copy=True)
    _sort_rows_inplace(sorted_rows, num_threads)
    pos = _row_searchsorted(sorted_rows, rows, values32, right=False)
    num_leq = _row_searchsorted(sorted_rows, rows, values32, right=True)
    del sorted_rows
    unresolved = np.flatnonzero(num_leq - pos > 1)
    if exact32 and unresolved.size > 32 * dist.shape[0] + 64:
        return None  # very many ties: one packed-key sort is cheaper
    if unresolved.size:
        pos[unresolved] = _exact_positions(
            dist, rows[unresolved], cols[unresolved],
            pos[unresolved] if exact32 else None)
    return pos


def _packed_positions(dist: np.ndarray, dist32: np.ndarray, rows: np.ndarray,
                      cols: np.ndarray, values32: np.ndarray, exact32: bool,
                      candidates: Optional[np.ndarray],
                      num_threads: int) -> np.ndarray:
    """Positions by sorting packed ``row | float32 | index`` keys.

    Exact for float32 (ties included); for float64 values that collide in
    float32 with another entry the positions are recounted exactly.

    Args:
        dist (np.ndarray): Distances in the input precision, ``(n, G)``.
        dist32 (np.ndarray): The same as float32, ``(n, G)``.
        rows (np.ndarray): Row of every probe, ``(P,)``.
        cols (np.ndarray): Gallery index of every probe, ``(P,)``.
        values32 (np.ndarray): ``dist32[rows, cols]``, ``(P,)``.
        exact32 (bool): Whether ``dist32`` equals ``dist`` exactly.
        candidates (np.ndarray, optional): Boolean mask ``(n, G)`` of the
            entries that can precede a probe of interest; None for all.
        num_threads (int): Threads used to sort.

    Returns:
        np.ndarray: ``int64`` positions, shape ``(P,)``; exact for every
        probe that is not after all candidates of its row (those get the
        row's candidate count).
    """
    n, num_gallery = dist32.shape
    index_bits = _index_bits(num_gallery)
    if candidates is None:
        keys2d = _pack_keys(
            np.arange(n)[:, None], dist32,
            np.arange(num_gallery)[None, :], index_bits)
        _sort_rows_inplace(keys2d, num_threads)
        keys = keys2d.reshape(-1)
        row_offsets = np.arange(n + 1, dtype=np.int64) * num_gallery
    else:
        flat = np.flatnonzero(candidates)
        cand_rows, cand_cols = np.divmod(flat, num_gallery)
        del flat
        keys = _pack_keys(cand_rows, dist32[cand_rows, cand_cols], cand_cols,
                          index_bits)
        row_offsets = np.concatenate(
            ([0], np.cumsum(np.bincount(cand_rows, minlength=n))))
        del cand_rows, cand_cols
        _sort_row_segments(keys, row_offsets, num_threads)

    pos = np.searchsorted(keys, _pack_keys(rows, values32, cols, index_bits))
    pos = pos.astype(np.int64) - row_offsets[rows]
    if not exact32:
        # float64 values sharing their float32 with another entry
        lo = np.searchsorted(keys, _pack_keys(rows, values32, 0, index_bits))
        hi = np.searchsorted(
            keys,
            _pack_keys(rows, values32, (1 << index_bits) - 1, index_bits),
            side='right')
        unresolved = np.flatnonzero(hi - lo > 1)
        if unresolved.size:
            pos[unresolved] = _exact_positions(dist, rows[unresolved],
                                               cols[unresolved])
    return pos


def _rank_chunk(dist: np.ndarray, q_pids: np.ndarray, q_camids: np.ndarray,
                gallery: _GalleryIndex, g_camids: np.ndarray,
                num_threads: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-query AP, INP and first-match rank for a chunk of queries.

    Args:
        dist (np.ndarray): Distances, shape ``(n, G)``, float32/float64.
        q_pids (np.ndarray): Query ids, shape ``(n,)``.
        q_camids (np.ndarray): Query cameras, shape ``(n,)``.
        gallery (_GalleryIndex): The gallery ids, indexed.
        g_camids (np.ndarray): Gallery cameras, shape ``(G,)``.
        num_threads (int): Threads used to sort.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: ``ap`` and ``inp``
        (float64, shape ``(n,)``, NaN for skipped queries, as fractions) and
        ``first_rank`` (int64, shape ``(n,)``, 1-based rank among the kept
        entries of the first true match, 0 for skipped queries).
    """
    n, num_gallery = dist.shape
    dist32 = dist if dist.dtype == np.float32 else dist.astype(np.float32)
    if np.isnan(dist32).any():
        raise ValueError('`distmat` contains NaN values.')
    exact32 = dist.dtype == np.float32 or np.array_equal(dist32, dist)
    ap = np.full(n, np.nan)
    inp = np.full(n, np.nan)
    first_rank = np.zeros(n, dtype=np.int64)

    # Same-identity entries: the true matches and the junk (same camera).
    rows, cols = gallery.pairs(q_pids)
    junk = g_camids[cols] == q_camids[rows]
    true = ~junk
    if not true.any():
        return ap, inp, first_rank
    values32 = dist32[rows, cols]

    # 0-based position of every same-identity entry in the stable order.
    # Candidates = entries not after the last true match of their row; only
    # they can precede a true match. Few of them (good features): sort
    # their packed keys; many: sort the float32 rows.
    rows_t = rows[true]
    starts = np.flatnonzero(np.r_[True, rows_t[1:] != rows_t[:-1]])
    last_value = np.full(n, -np.inf, dtype=np.float32)
    last_value[rows_t[starts]] = np.maximum.reduceat(values32[true], starts)
    candidates = dist32 <= last_value[:, None]
    if np.count_nonzero(candidates) <= candidates.size // 4:
        pos = _packed_positions(dist, dist32, rows, cols, values32, exact32,
                                candidates, num_threads)
    else:
        del candidates
        pos = _float_positions(dist, dist32, rows, cols, values32, exact32,
                               num_threads)
        if pos is None:
            pos = _packed_positions(dist, dist32, rows, cols, values32,
                                    exact32, None, num_threads)

    # Order the same-identity entries of each row by position (rows stay
    # grouped; only junk after the last true match can share a position,
    # and it does not matter).
    order = np.argsort(rows * (num_gallery + 1) + pos, kind='stable')
    rows, pos, junk = rows[order], pos[order], junk[order]
    true = ~junk
    row_start = np.searchsorted(rows, rows, side='left')
    index = np.arange(rows.size)
    junk_cum = np.concatenate(([0], np.cumsum(junk)))
    true_cum = np.concatenate(([0], np.cumsum(true)))
    junk_before = junk_cum[index] - junk_cum[row_start]
    true_before = true_cum[index] - true_cum[row_start]

    rows_t = rows[true]
    kept_rank = (pos - junk_before)[true] + 1  # 1-based among kept
    num_hits = true_before[true] + 1  # true matches up to this rank
    num_true = np.bincount(rows_t, minlength=n)
    ap_sum = np.bincount(rows_t, weights=num_hits / kept_rank, minlength=n)
    valid = num_true > 0
    ap[valid] = ap_sum[valid] / num_true[valid]
    is_first = num_hits == 1
    first_rank[rows_t[is_first]] = kept_rank[is_first]
    is_last = num_hits == num_true[rows_t]
    inp[rows_t[is_last]] = num_hits[is_last] / kept_rank[is_last]
    return ap, inp, first_rank


def _summarize(ap: np.ndarray, inp: np.ndarray, first_rank: np.ndarray,
               topk: Tuple[int, ...]) -> Dict[str, Union[float, int]]:
    """Reduce the per-query values to the metric dict.

    Args:
        ap (np.ndarray): Per-query AP, shape ``(Q,)``, NaN when skipped.
        inp (np.ndarray): Per-query INP, shape ``(Q,)``, NaN when skipped.
        first_rank (np.ndarray): Per-query rank of the first true match,
            shape ``(Q,)``.
        topk (tuple[int]): CMC ranks to report.

    Returns:
        dict: See :func:`evaluate_rank`.
    """
    valid = ~np.isnan(ap)
    num_valid = int(valid.sum())
    num_skipped = int(ap.shape[0] - num_valid)
    if num_valid == 0:
        raise ValueError(
            f'None of the {ap.shape[0]} queries has a true match in the '
            'gallery (same id, different camera) after removing the '
            'same-id-same-camera entries, so CMC/mAP are undefined. Check '
            'that the gallery holds the query identities from other cameras '
            '(MARS appends the query tracklets to the gallery) and that the '
            'ids/cameras are passed in the right order.')
    results: Dict[str, Union[float, int]] = {
        'mAP': float(ap[valid].mean() * 100.0),
        'mINP': float(inp[valid].mean() * 100.0),
    }
    first_valid = first_rank[valid]
    for k in topk:
        results[f'R{k}'] = float(
            np.count_nonzero(first_valid <= k) * 100.0 / num_valid)
    results['num_valid_queries'] = num_valid
    results['num_skipped_queries'] = num_skipped
    return results


def evaluate_rank(
        distmat: ArrayLike,
        q_pids: ArrayLike,
        g_pids: ArrayLike,
        q_camids: ArrayLike,
        g_camids: ArrayLike,
        topk: Union[int, Sequence[int]] = (1, 5, 10, 20),
        chunk_size: Optional[int] = None,
        num_threads: Optional[int] = None) -> Dict[str, Union[float, int]]:
    """Camera-aware CMC, mAP and mINP (MARS protocol), vectorised.

    For every query the gallery entries with the same id and the same camera
    are removed; the rest are ranked by ascending distance (stable: ties keep
    the gallery order). Queries left without a true match are skipped.

    Args:
        distmat (torch.Tensor | np.ndarray): Query-to-gallery distances,
            shape ``(Q, G)``; smaller is more similar. Must not contain NaN.
        q_pids (ArrayLike): Query identities, shape ``(Q,)``.
        g_pids (ArrayLike): Gallery identities, shape ``(G,)``.
        q_camids (ArrayLike): Query cameras, shape ``(Q,)``.
        g_camids (ArrayLike): Gallery cameras, shape ``(G,)``.
        topk (int | Sequence[int]): CMC ranks to report, one ``R{k}`` key
            each. Defaults to ``(1, 5, 10, 20)``.
        chunk_size (int, optional): Queries per chunk; memory is
            ``O(chunk_size x G)``. Defaults to None (about 8M distances per
            chunk). Results do not depend on it.
        num_threads (int, optional): Threads used to sort. Defaults to None
            (the available cores, at most 8).

    Returns:
        dict: ``mAP``, ``mINP`` and ``R{k}`` for every ``k`` in ``topk``
        (floats, in percent, averaged over the valid queries), plus
        ``num_valid_queries`` and ``num_skipped_queries`` (ints).

    Raises:
        ValueError: If the shapes do not match, ``distmat`` has NaN, or no
            query has a true match.
    """
    dist = _as_distmat(distmat)
    num_query, num_gallery = dist.shape
    if num_query == 0 or num_gallery == 0:
        raise ValueError(f'Empty query or gallery: distmat has shape '
                         f'{dist.shape}.')
    q_pids, q_camids, g_pids, g_camids = _as_query_gallery_labels(
        q_pids, q_camids, g_pids, g_camids, num_query, num_gallery)
    topk = _normalize_topk(topk)
    rows_per_chunk = _chunk_rows(num_gallery, chunk_size)
    num_threads = num_threads or _default_num_threads()

    gallery = _GalleryIndex(g_pids)
    ap = np.empty(num_query)
    inp = np.empty(num_query)
    first_rank = np.empty(num_query, dtype=np.int64)
    for start in range(0, num_query, rows_per_chunk):
        sl = slice(start, start + rows_per_chunk)
        ap[sl], inp[sl], first_rank[sl] = _rank_chunk(dist[sl], q_pids[sl],
                                                      q_camids[sl], gallery,
                                                      g_camids, num_threads)
    return _summarize(ap, inp, first_rank, topk)


def evaluate_rank_from_features(
        query_feats: Union[torch.Tensor, np.ndarray],
        gallery_feats: Union[torch.Tensor, np.ndarray],
        q_pids: ArrayLike,
        g_pids: ArrayLike,
        q_camids: ArrayLike,
        g_camids: ArrayLike,
        metric: str = 'cosine',
        topk: Union[int, Sequence[int]] = (1, 5, 10, 20),
        chunk_size: Optional[int] = None,
        num_threads: Optional[int] = None) -> Dict[str, Union[float, int]]:
    """Same as :func:`evaluate_rank` on ``compute_distance(query, gallery)``,
    without materialising the ``(Q, G)`` distance matrix.

    Distances are computed and ranked one chunk of queries at a time, so the
    peak memory is ``O(chunk_size x G)`` on top of the features — the way to
    evaluate very large galleries.

    Args:
        query_feats (torch.Tensor | np.ndarray): Shape ``(Q, C)``.
        gallery_feats (torch.Tensor | np.ndarray): Shape ``(G, C)``.
        q_pids (ArrayLike): Query identities, shape ``(Q,)``.
        g_pids (ArrayLike): Gallery identities, shape ``(G,)``.
        q_camids (ArrayLike): Query cameras, shape ``(Q,)``.
        g_camids (ArrayLike): Gallery cameras, shape ``(G,)``.
        metric (str): ``'cosine'`` or ``'euclidean'``, see
            :func:`compute_distance`. Defaults to ``'cosine'``.
        topk (int | Sequence[int]): CMC ranks to report. Defaults to
            ``(1, 5, 10, 20)``.
        chunk_size (int, optional): Queries per chunk. Defaults to None
            (about 8M distances per chunk, but at least 256 queries, since
            thin matrix products are slow).
        num_threads (int, optional): Threads used to sort. Defaults to None.

    Returns:
        dict: See :func:`evaluate_rank`.
    """
    q, g_t, g_term = _prepare_pair(query_feats, gallery_feats, metric)
    num_query, num_gallery = q.shape[0], g_t.shape[1]
    if num_query == 0 or num_gallery == 0:
        raise ValueError(f'Empty query ({num_query}) or gallery '
                         f'({num_gallery}).')
    q_pids, q_camids, g_pids, g_camids = _as_query_gallery_labels(
        q_pids, q_camids, g_pids, g_camids, num_query, num_gallery)
    topk = _normalize_topk(topk)
    rows_per_chunk = _chunk_rows(num_gallery, chunk_size,
                                 _MIN_FEATURE_CHUNK_ROWS)
    num_threads = num_threads or _default_num_threads()

    gallery = _GalleryIndex(g_pids)
    ap = np.empty(num_query)
    inp = np.empty(num_query)
    first_rank = np.empty(num_query, dtype=np.int64)
    for start in range(0, num_query, rows_per_chunk):
        sl = slice(start, start + rows_per_chunk)
        dist = _chunk_distance(q[sl], g_t, g_term, metric)
        ap[sl], inp[sl], first_rank[sl] = _rank_chunk(
            _as_distmat(dist), q_pids[sl], q_camids[sl], gallery, g_camids,
            num_threads)
    return _summarize(ap, inp, first_rank, topk)

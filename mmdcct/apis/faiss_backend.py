"""FAISS search backends of :class:`~mmdcct.apis.GalleryIndex`.

The gallery's features are L2-normalised, so the inner product is the
cosine similarity and every backend searches by inner product
(``METRIC_INNER_PRODUCT``); the distance returned is the cosine distance
``1 - <q, g>``, as the exact search returns. For unit vectors the euclidean
distance is a monotone function of it, ``||q - g|| = sqrt(2 (1 - <q, g>))``,
so a euclidean ranking is the same ranking.

Backends (``backend`` / ``backend_cfg`` of :class:`GalleryIndex`):

- ``'faiss-flat'``: ``IndexFlatIP``, exact (brute force, BLAS).
- ``'faiss-ivf'``: ``IndexIVFFlat``, approximate: k-means into ``nlist``
  cells (trained on ``train_size`` sampled entries, ``niter`` iterations,
  ``seed``), a query scans the ``nprobe`` nearest cells. Defaults:
  ``nlist = 4 sqrt(G)`` (at most ``G / 39``, the k-means minimum of 39
  points per cell), ``nprobe = max(8, nlist / 64)``, ``train_size =
  64 nlist``: starting points; the recall they reach depends on the
  features (measure it against the exact search).
- ``'faiss-hnsw'``: ``IndexHNSWFlat``, approximate graph search with ``m``
  links per node, ``ef_construction`` and ``ef_search`` candidate lists.

FAISS is an optional dependency: ``pip install 'mmdcct[faiss]'`` (the
``faiss-cpu`` wheel).
"""
import math
from typing import Any, Dict, Optional, Tuple

import numpy as np

__all__ = [
    'SEARCH_BACKENDS', 'import_faiss', 'resolve_backend_cfg',
    'build_faiss_index', 'set_search_params', 'faiss_search'
]

#: Backend name -> default parameters (None: chosen from the gallery size
#: when the index is built).
SEARCH_BACKENDS: Dict[str, Dict[str, Any]] = {
    'exact': {},
    'faiss-flat': {},
    'faiss-ivf': dict(
        nlist=None, nprobe=None, train_size=None, niter=10, seed=0),
    'faiss-hnsw': dict(m=32, ef_construction=80, ef_search=128),
}

#: Parameters that only change the search, not the built index.
SEARCH_TIME_PARAMS = ('nprobe', 'ef_search')


def import_faiss():
    """Import :mod:`faiss`, or explain how to install it.

    Raises:
        ImportError: Naming the ``faiss`` extra.
    """
    try:
        import faiss
    except ImportError as e:
        raise ImportError(
            'The FAISS search backends need the faiss package: install '
            "the optional extra with `pip install 'mmdcct[faiss]'` (or "
            "`pip install faiss-cpu`), or use backend='exact'.") from e
    return faiss


def _check_int(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < low:
        raise ValueError(f'{name} must be an int >= {low}, got {value!r}')
    return int(value)


def resolve_backend_cfg(backend: str,
                        cfg: Optional[dict] = None,
                        num_entries: Optional[int] = None) -> dict:
    """Validate a backend and fill in its parameters.

    Args:
        backend (str): One of :data:`SEARCH_BACKENDS`.
        cfg (dict, optional): Parameters overriding the defaults.
        num_entries (int, optional): Gallery size; when given, the
            size-dependent defaults (``nlist`` ...) are chosen and checked.

    Returns:
        dict: All parameters of the backend.

    Raises:
        ValueError: On an unknown backend or parameter, or a value that
            does not fit the gallery (e.g. ``nlist`` > entries).
    """
    if backend not in SEARCH_BACKENDS:
        raise ValueError(f'Unknown search backend {backend!r}; expected one '
                         f'of {tuple(SEARCH_BACKENDS)}.')
    cfg = dict(cfg or {})
    cfg.pop('type', None)
    defaults = SEARCH_BACKENDS[backend]
    unknown = sorted(set(cfg) - set(defaults))
    if unknown:
        raise ValueError(
            f'Unknown parameter(s) {unknown} for search backend '
            f'{backend!r}; it takes {sorted(defaults) or "none"}.')
    out = dict(defaults)
    out.update({k: v for k, v in cfg.items() if v is not None})
    for key, value in out.items():
        if value is not None:
            out[key] = _check_int(key, value, 0 if key == 'seed' else 1)
    if backend == 'faiss-ivf' and num_entries is not None:
        n = int(num_entries)
        if out['nlist'] is None:
            out['nlist'] = max(1, min(int(round(4 * math.sqrt(n))), n // 39))
        if out['nlist'] > n:
            raise ValueError(f'nlist={out["nlist"]} cells for {n} gallery '
                             'entries: k-means needs at least one entry per '
                             'cell (use nlist <= entries, ideally entries / '
                             '39 or fewer).')
        if out['nprobe'] is None:
            out['nprobe'] = max(8, out['nlist'] // 64)
        out['nprobe'] = min(out['nprobe'], out['nlist'])
        if out['train_size'] is None:
            out['train_size'] = 64 * out['nlist']
        out['train_size'] = max(out['nlist'], min(out['train_size'], n))
    return out


def build_faiss_index(features: np.ndarray, backend: str, cfg: dict):
    """Build a FAISS index over unit-norm features.

    Args:
        features (np.ndarray): ``(G, C)`` float32, L2-normalised.
        backend (str): ``'faiss-flat'``, ``'faiss-ivf'`` or ``'faiss-hnsw'``.
        cfg (dict): Parameters from :func:`resolve_backend_cfg` (with
            ``num_entries``).

    Returns:
        faiss.Index: The index holding all ``G`` features (its own copy).
    """
    faiss = import_faiss()
    x = np.ascontiguousarray(features, dtype=np.float32)
    num, dim = x.shape
    if backend == 'faiss-flat':
        index = faiss.IndexFlatIP(dim)
    elif backend == 'faiss-ivf':
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, cfg['nlist'],
                                   faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = cfg['niter']
        index.cp.seed = cfg['seed']
        # a sample as large as k-means would use is enough to place the
        # cells; training on all of a large gallery costs minutes
        index.cp.max_points_per_centroid = max(
            39, -(-cfg['train_size'] // cfg['nlist']))
        if cfg['train_size'] < num:
            rng = np.random.default_rng(cfg['seed'])
            sample = np.sort(
                rng.choice(num, cfg['train_size'], replace=False))
            index.train(x[sample])
        else:
            index.train(x)
    elif backend == 'faiss-hnsw':
        index = faiss.IndexHNSWFlat(dim, cfg['m'],
                                    faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = cfg['ef_construction']
    else:
        raise ValueError(f'{backend!r} is not a FAISS backend.')
    index.add(x)
    set_search_params(index, backend, cfg)
    return index


def set_search_params(index, backend: str, cfg: dict) -> None:
    """Apply the search-time parameters (``nprobe``, ``ef_search``)."""
    if backend == 'faiss-ivf':
        index.nprobe = int(cfg['nprobe'])
    elif backend == 'faiss-hnsw':
        index.hnsw.efSearch = int(cfg['ef_search'])


def faiss_search(index, queries: np.ndarray,
                 topk: int) -> Tuple[np.ndarray, np.ndarray]:
    """Search unit-norm queries.

    Args:
        index (faiss.Index): From :func:`build_faiss_index`.
        queries (np.ndarray): ``(Q, C)`` float32, L2-normalised.
        topk (int): Hits per query.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``distances`` ``(Q, k)`` float32,
        the cosine distance ascending (ties by gallery index), and
        ``indices`` ``(Q, k)`` int64; an approximate index that finds fewer
        than ``k`` entries pads with index -1 and distance ``inf``.
    """
    q = np.ascontiguousarray(queries, dtype=np.float32)
    sims, inds = index.search(q, int(topk))
    dists = np.maximum(1.0 - sims.astype(np.float32), 0)
    missing = inds < 0
    dists[missing] = np.inf
    # FAISS orders equal scores arbitrarily; the exact search keeps the
    # gallery order, so sort by (distance, index) within the k found
    key = np.where(missing, np.iinfo(np.int64).max, inds)
    order = np.lexsort((key, dists), axis=1) if dists.size else \
        np.zeros(dists.shape, dtype=np.int64)
    rows = np.arange(len(q))[:, None]
    return dists[rows, order], inds[rows, order].astype(np.int64)

"""A searchable gallery of tracklet features, saved as ``.npz`` + ``.json``.

Example::

    >>> from mmdcct.apis import GalleryIndex, VideoReIDInferencer
    >>> inferencer = VideoReIDInferencer(CONFIG, CHECKPOINT)
    >>> index = GalleryIndex.from_folders(inferencer, 'gallery_root')
    >>> index.save('work_dirs/gallery')      # gallery.npz + gallery.json
    >>> index = GalleryIndex.load('work_dirs/gallery')
    >>> hits = index.query(inferencer, ['query/0001C1T0001'], topk=5)
    >>> print(format_search_results(hits, ['query/0001C1T0001']))

Distances are cosine distances ``1 - cos(q, g)`` (in ``[0, 2]``) on
L2-normalised features; ties are broken by gallery order.

Search backends (``backend=``, saved with the index): ``'exact'`` (the
default: chunked brute force with :mod:`mmdcct.evaluation.functional`),
and, with the optional ``faiss`` extra, ``'faiss-flat'`` (exact, same
results), ``'faiss-ivf'`` and ``'faiss-hnsw'`` (approximate, for large
galleries); see :mod:`mmdcct.apis.faiss_backend`::

    >>> index = GalleryIndex.load('work_dirs/gallery')
    >>> index.set_backend('faiss-ivf', nlist=1024, nprobe=64)
    >>> index.save('work_dirs/gallery')  # + gallery.faiss, params in .json

Folders are read with :func:`find_tracklets`: a MARS identity folder
(``bbox_test/0001/`` with ``0001C1T0001F001.jpg`` ...) is split into its
tracklets, named ``0001/C1T0001`` ..., and folders whose frames cannot be
told apart are refused (see :mod:`mmdcct.apis.tracklet_folders`).

Cameras are 1-based, as written in the file names (``C1`` is camera 1):
parsed ``camid`` values, the ``camera`` column of
:func:`format_search_results`, and the ``camid`` the index records. The
datasets' data samples count cameras from 0 instead.
"""
import hashlib
import json
import os
import os.path as osp
import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple
from typing import Union

import numpy as np

from mmdcct.evaluation.functional import distance_chunks, rank_topk
from .faiss_backend import (SEARCH_TIME_PARAMS, build_faiss_index,
                            faiss_search, import_faiss, resolve_backend_cfg,
                            set_search_params)
from .inferencer import find_tracklet_dirs, list_tracklet_frames
from .tracklet_folders import split_tracklet_frames

__all__ = [
    'GalleryIndex', 'parse_pid_camid', 'format_search_results',
    'DEFAULT_NAME_PATTERN', 'find_tracklets', 'check_feature_mode'
]

#: Identity and camera in a tracklet folder or frame name: MARS
#: (``0001C1T0001``, ``00-1`` = junk), Market/Duke (``0001_c1...``) and
#: ``<pid>_cam<camid>`` names. Groups ``pid`` and ``camid``.
DEFAULT_NAME_PATTERN = (r'^(?P<pid>00-1|-?\d+)[_-]?(?:[cC]|cam|CAM)'
                        r'(?P<camid>\d+)')

FORMAT_VERSION = 1


def parse_pid_camid(
    path: str,
    pattern: Union[str, 're.Pattern', None] = DEFAULT_NAME_PATTERN
) -> Dict[str, Any]:
    """Read the identity and camera of a tracklet from its name.

    The folder name is tried first, then the name of its first frame.
    ``'00-1'`` (MARS junk) reads as ``-1``. Cameras are returned as written
    (1-based for MARS names).

    Args:
        path (str): Tracklet folder.
        pattern (str | re.Pattern, optional): Regular expression with the
            named groups ``pid`` and ``camid`` (``re.search`` on the name).
            None disables parsing. Defaults to :data:`DEFAULT_NAME_PATTERN`.

    Returns:
        dict: ``pid`` and ``camid`` (int, or None when not found).
    """
    out: Dict[str, Any] = dict(pid=None, camid=None)
    if pattern is None:
        return out
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    names = [osp.basename(osp.normpath(path))]
    if osp.isdir(path):
        try:
            names.append(osp.basename(list_tracklet_frames(path)[0]))
        except FileNotFoundError:
            pass
    for name in names:
        match = regex.search(name)
        if match is None:
            continue
        groups = match.groupdict()
        pid = groups.get('pid')
        camid = groups.get('camid')
        if pid is not None:
            out['pid'] = -1 if pid == '00-1' else int(pid)
        if camid is not None:
            out['camid'] = int(camid)
        return out
    return out


def find_tracklets(
    paths: Union[str, Sequence[str]],
    pattern: Union[str, 're.Pattern', None] = DEFAULT_NAME_PATTERN
) -> List[dict]:
    """Expand folders into tracklets, splitting MARS identity folders.

    Every folder of :func:`find_tracklet_dirs` is grouped by
    :func:`~mmdcct.apis.tracklet_folders.split_tracklet_frames`: a folder of
    frames of several MARS tracklets (``0001C1T0001F001.jpg``,
    ``0001C6T0003F001.jpg`` ...) gives one tracklet per (camera, tracklet),
    named ``<folder>/C1T0001``; any other folder is one tracklet named by
    its path.

    Args:
        paths (str | Sequence[str]): Tracklet folders, or folders whose
            sub-folders are tracklets (or MARS identity folders).
        pattern (str | re.Pattern, optional): Name pattern of
            :func:`parse_pid_camid` for the folders that are one tracklet;
            None disables parsing (split tracklets then get no ids either).
            Defaults to :data:`DEFAULT_NAME_PATTERN`.

    Returns:
        list[dict]: In folder order, then identity / camera / tracklet
        order: ``name`` (str), ``path`` (the folder), ``label`` (the part of
        the folder, e.g. ``'C1T0001'``, or None), ``frames`` (paths in frame
        order), ``pid`` and ``camid`` (int, 1-based camera, or None).

    Raises:
        ValueError: If a folder mixes frame-naming conventions or holds
            DukeMTMC-VideoReID frames of several tracklets.
    """
    out = []
    for folder in find_tracklet_dirs(paths):
        frames = list_tracklet_frames(folder)
        for part in split_tracklet_frames(frames, folder):
            if part['label'] is None:
                ids = parse_pid_camid(folder, pattern)
                name = folder
            else:
                ids = dict(pid=None, camid=None) if pattern is None else dict(
                    pid=part['pid'], camid=part['camid'])
                name = osp.join(folder, part['label'])
            out.append(
                dict(
                    name=name,
                    path=folder,
                    label=part['label'],
                    frames=part['frames'],
                    **ids))
    return out


def check_feature_mode(inferencer: Any, info: dict) -> None:
    """Raise if ``inferencer`` embeds with another feature mode than the one
    recorded in an index's ``info``.

    Args:
        inferencer (VideoReIDInferencer): Has a ``feature`` attribute.
        info (dict): :attr:`GalleryIndex.info` (``feature`` may be absent).

    Raises:
        ValueError: Naming both modes.
    """
    recorded = info.get('feature')
    current = getattr(inferencer, 'feature', None)
    if isinstance(recorded, str) and isinstance(current, str) \
            and recorded != current:
        raise ValueError(
            f'The gallery index holds {recorded!r} features but the queries '
            f'would be embedded with feature {current!r}: distances between '
            'the two mean nothing. Embed the queries with '
            f'feature={recorded!r} (tools/infer.py: --feature {recorded}, or '
            'leave --feature out to use the mode the index records), or '
            f'rebuild the index with {current!r}.')


def _stem(path: str) -> str:
    """``x/gallery.npz`` / ``x/gallery.json`` / ``x/gallery`` -> ``x/gallery``.
    """
    path = os.fspath(path)
    root, ext = osp.splitext(path)
    return root if ext.lower() in ('.npz', '.json') else path


def _opt_int(value: Any) -> Optional[int]:
    """int, or None for None."""
    return None if value is None else int(value)


def _fingerprint(features: np.ndarray) -> str:
    """A cheap hash of the features (shape and up to 4096 spread rows) that
    tells a saved FAISS index from one of other features."""
    step = max(1, len(features) // 4096)
    digest = hashlib.sha1(repr(features.shape).encode())
    digest.update(np.ascontiguousarray(features[::step]).tobytes())
    return digest.hexdigest()


#: Distance-matrix entries ranked at once by the exact search: bounds its
#: temporaries (a few times 256 MB) whatever the gallery size.
_EXACT_BLOCK = 1 << 26


class GalleryIndex:
    """Tracklet features with their metadata, searchable by cosine distance.

    Args:
        features (np.ndarray): ``(G, C)`` features; they are L2-normalised
            (float32) on construction.
        metadata (Sequence[dict], optional): One dict per row with ``path``
            (str), optionally ``pid`` / ``camid`` (int or None; cameras
            1-based as in file names), ``name`` (the tracklet's name, e.g.
            ``'bbox_test/0001/C1T0001'`` for a part of a MARS identity
            folder) and any JSON-serialisable extra keys. Defaults to
            ``path=''``.
        info (dict, optional): JSON-serialisable information about how the
            features were made (config, checkpoint, feature mode ...).
        normalize (bool): L2-normalise the features. Defaults to True
            (:meth:`load` skips it: saved features are normalised).
        backend (str): Search backend: ``'exact'``, ``'faiss-flat'``,
            ``'faiss-ivf'`` or ``'faiss-hnsw'`` (see :meth:`set_backend`).
            Defaults to ``'exact'``.
        backend_cfg (dict, optional): Its parameters, e.g.
            ``dict(nlist=1024, nprobe=64)``. Defaults to None.
    """

    def __init__(self,
                 features: np.ndarray,
                 metadata: Optional[Sequence[dict]] = None,
                 info: Optional[dict] = None,
                 normalize: bool = True,
                 backend: str = 'exact',
                 backend_cfg: Optional[dict] = None) -> None:
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2:
            raise ValueError('features must be (G, C), got shape '
                             f'{features.shape}')
        if normalize:
            norms = np.linalg.norm(features, axis=1, keepdims=True)
            features = features / np.maximum(norms, 1e-12)
        self.features = features
        if metadata is None:
            metadata = [dict(path='') for _ in range(len(features))]
        if len(metadata) != len(features):
            raise ValueError(f'{len(metadata)} metadata entries for '
                             f'{len(features)} features')
        self.metadata: List[dict] = []
        for meta in metadata:
            meta = dict(meta)
            meta['path'] = str(meta.get('path', ''))
            meta['pid'] = _opt_int(meta.get('pid'))
            meta['camid'] = _opt_int(meta.get('camid'))
            self.metadata.append(meta)
        self.info = dict(info or {})
        self._faiss_index = None
        self.set_backend(backend, **(backend_cfg or {}))

    # ------------------------------------------------------------------
    # construction
    # ------------------------------------------------------------------
    @classmethod
    def from_folders(cls,
                     inferencer: Callable,
                     folders: Union[str, Sequence[str]],
                     pids: Optional[Sequence[Optional[int]]] = None,
                     camids: Optional[Sequence[Optional[int]]] = None,
                     pattern: Union[str, 're.Pattern',
                                    None] = DEFAULT_NAME_PATTERN,
                     batch_size: int = 8,
                     progress: bool = True) -> 'GalleryIndex':
        """Embed tracklet folders and index them.

        Args:
            inferencer (VideoReIDInferencer): Embeds the tracklets.
            folders (str | Sequence[str]): Tracklet folders, or folders whose
                sub-folders are tracklets; MARS identity folders are split
                into their tracklets (see :func:`find_tracklets`).
            pids (Sequence[int | None], optional): Identities, one per
                tracklet; override the parsed ones. Defaults to None.
            camids (Sequence[int | None], optional): Cameras (1-based, as
                in file names), one per tracklet; override the parsed ones.
                Defaults to None.
            pattern (str, optional): Name pattern for
                :func:`parse_pid_camid`; None disables parsing.
            batch_size (int): Tracklets per forward. Defaults to 8.
            progress (bool): Show a progress bar. Defaults to True.

        Returns:
            GalleryIndex: The index, in :func:`find_tracklets` order.
        """
        tracklets = find_tracklets(folders, pattern)
        for name, values in (('pids', pids), ('camids', camids)):
            if values is not None and len(values) != len(tracklets):
                raise ValueError(f'{len(values)} {name} for '
                                 f'{len(tracklets)} tracklets')
        metadata = []
        for i, track in enumerate(tracklets):
            meta = dict(
                path=osp.abspath(track['path']),
                pid=track['pid'],
                camid=track['camid'])
            if track['label'] is not None:
                meta['name'] = osp.join(meta['path'], track['label'])
            if pids is not None:
                meta['pid'] = pids[i]
            if camids is not None:
                meta['camid'] = camids[i]
            meta['num_frames'] = len(track['frames'])
            metadata.append(meta)
        feats = inferencer.extract([t['frames'] for t in tracklets],
                                   batch_size=batch_size,
                                   progress=progress)
        return cls(feats, metadata, info=cls._inferencer_info(inferencer))

    @staticmethod
    def _inferencer_info(inferencer: Any) -> dict:
        """What to record about the inferencer (JSON-serialisable)."""
        info = {}
        feature = getattr(inferencer, 'feature', None)
        if isinstance(feature, str):
            info['feature'] = feature
        cfg = getattr(inferencer, 'cfg', None)
        filename = getattr(cfg, 'filename', None)
        if filename:
            info['config'] = str(filename)
        return info

    def add(self, features: np.ndarray, metadata: Sequence[dict]) -> None:
        """Append entries.

        Args:
            features (np.ndarray): ``(N, C)`` features.
            metadata (Sequence[dict]): One dict per row.
        """
        other = GalleryIndex(features, metadata)
        if len(self) and other.features.shape[1] != self.feature_dim:
            raise ValueError(f'Feature width {other.features.shape[1]} != '
                             f'the index width {self.feature_dim}')
        self.features = np.concatenate([self.features, other.features]) \
            if len(self) else other.features
        self.metadata.extend(other.metadata)
        self._reset_backend()

    # ------------------------------------------------------------------
    # accessors
    # ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.features)

    @property
    def feature_dim(self) -> int:
        """int: Feature width ``C``."""
        return int(self.features.shape[1])

    @property
    def paths(self) -> List[str]:
        """list[str]: Tracklet folders."""
        return [m['path'] for m in self.metadata]

    @property
    def names(self) -> List[str]:
        """list[str]: Tracklet names: the folder, or ``<folder>/C1T0001``
        for a part of a MARS identity folder."""
        return [m.get('name') or m['path'] for m in self.metadata]

    @property
    def pids(self) -> np.ndarray:
        """np.ndarray: Identities (``-2`` where unknown), int64."""
        return np.array(
            [-2 if m['pid'] is None else m['pid'] for m in self.metadata],
            dtype=np.int64)

    @property
    def camids(self) -> np.ndarray:
        """np.ndarray: Cameras (``-2`` where unknown), int64."""
        return np.array(
            [-2 if m['camid'] is None else m['camid'] for m in self.metadata],
            dtype=np.int64)

    # ------------------------------------------------------------------
    # search backend
    # ------------------------------------------------------------------
    def set_backend(self, backend: str = 'exact', **cfg) -> None:
        """Choose how :meth:`search` ranks the gallery.

        ``'exact'`` ranks all entries (chunked); ``'faiss-flat'`` does the
        same with FAISS's ``IndexFlatIP`` (inner product of the unit-norm
        features = cosine similarity; same hits and distances);
        ``'faiss-ivf'`` (``IndexIVFFlat``: ``nlist``, ``nprobe``,
        ``train_size``, ``niter``, ``seed``) and ``'faiss-hnsw'``
        (``IndexHNSWFlat``: ``m``, ``ef_construction``, ``ef_search``) are
        approximate. A FAISS index is built on the first search (or
        :meth:`save`) and keeps its own copy of the features; changing only
        ``nprobe`` / ``ef_search`` keeps a built index.

        Args:
            backend (str): The backend. Defaults to ``'exact'``.
            **cfg: Its parameters (None entries keep the defaults, see
                :mod:`mmdcct.apis.faiss_backend`).

        Raises:
            ValueError: On an unknown backend or parameter.
            ImportError: If a FAISS backend is asked for without faiss
                installed (the ``faiss`` extra).
        """
        given = {k: v for k, v in cfg.items() if v is not None}
        cfg = resolve_backend_cfg(backend, cfg)
        if backend != 'exact':
            import_faiss()
        built = getattr(self, '_faiss_index', None)
        if built is not None and backend == self.backend and all(
                v == self.backend_cfg.get(k)
                for k, v in given.items() if k not in SEARCH_TIME_PARAMS):
            # only search-time parameters differ: keep the built index
            new_cfg = dict(self.backend_cfg)
            new_cfg.update({
                k: v
                for k, v in given.items() if k in SEARCH_TIME_PARAMS
            })
            self.backend_cfg = resolve_backend_cfg(backend, new_cfg,
                                                   len(self))
            self._backend_request = dict(self.backend_cfg)
            set_search_params(built, backend, self.backend_cfg)
            return
        self.backend = backend
        self._backend_request = cfg
        self._reset_backend()

    def _reset_backend(self) -> None:
        """Drop a built FAISS index (the features changed)."""
        self._faiss_index = None
        self.backend_cfg = dict(self._backend_request)

    @property
    def search_backend(self) -> dict:
        """dict: ``type`` (the backend) and its parameters, as saved in
        ``<stem>.json`` (size-dependent ones are None until built)."""
        return dict(type=self.backend, **self.backend_cfg)

    def build_search_backend(self):
        """Build the FAISS index of a FAISS backend now (else on the first
        search); returns it (None for ``'exact'``)."""
        if self.backend == 'exact':
            return None
        if self._faiss_index is None:
            if len(self) == 0:
                raise ValueError('The gallery is empty.')
            cfg = resolve_backend_cfg(self.backend, self._backend_request,
                                      len(self))
            self._faiss_index = build_faiss_index(self.features,
                                                  self.backend, cfg)
            self.backend_cfg = cfg
        return self._faiss_index

    # ------------------------------------------------------------------
    # IO
    # ------------------------------------------------------------------
    def save(self, path: str) -> Tuple[str, str]:
        """Write ``<stem>.npz`` (features) and ``<stem>.json`` (metadata).

        The search backend and its parameters are saved in the ``.json``
        (``search_backend``). An approximate FAISS index (``'faiss-ivf'``,
        ``'faiss-hnsw'``) is built if needed and written as ``<stem>.faiss``
        (``faiss.write_index``; it holds a copy of the features), because
        building it again costs minutes on a large gallery; a flat one is
        rebuilt on load instead (a copy of the features).

        Args:
            path (str): ``<stem>``, ``<stem>.npz`` or ``<stem>.json``.

        Returns:
            tuple[str, str]: The ``.npz`` and ``.json`` paths.
        """
        stem = _stem(path)
        if osp.dirname(stem):
            os.makedirs(osp.dirname(stem), exist_ok=True)
        npz_path, json_path = stem + '.npz', stem + '.json'
        np.savez(npz_path, features=self.features)
        backend = self.search_backend
        faiss_path = stem + '.faiss'
        if self.backend in ('faiss-ivf', 'faiss-hnsw') and len(self):
            import_faiss().write_index(self.build_search_backend(),
                                       faiss_path)
            backend = self.search_backend
            backend.update(
                file=osp.basename(faiss_path),
                fingerprint=_fingerprint(self.features))
        elif osp.isfile(faiss_path):  # a stale one would be read back
            os.remove(faiss_path)
        with open(json_path, 'w') as f:
            json.dump(
                dict(
                    format='mmdcct.GalleryIndex',
                    version=FORMAT_VERSION,
                    num_entries=len(self),
                    feature_dim=self.feature_dim if len(self) else 0,
                    distance='cosine',
                    search_backend=backend,
                    info=self.info,
                    entries=self.metadata),
                f,
                indent=1)
        return npz_path, json_path

    @classmethod
    def load(cls,
             path: str,
             backend: Optional[str] = None,
             backend_cfg: Optional[dict] = None) -> 'GalleryIndex':
        """Read an index written by :meth:`save`.

        The saved search backend is restored, with its ``<stem>.faiss``
        when that file matches the features (else the FAISS index is built
        again on the first search).

        Args:
            path (str): ``<stem>``, ``<stem>.npz`` or ``<stem>.json``.
            backend (str, optional): Use this backend instead of the saved
                one. Defaults to None.
            backend_cfg (dict, optional): Parameters overriding the saved
                ones (e.g. another ``nprobe``). Defaults to None.

        Returns:
            GalleryIndex: The index.
        """
        stem = _stem(path)
        npz_path, json_path = stem + '.npz', stem + '.json'
        for p in (npz_path, json_path):
            if not osp.isfile(p):
                raise FileNotFoundError(f'Gallery index file {p!r} is '
                                        'missing (save writes .npz + .json)')
        with np.load(npz_path, allow_pickle=False) as data:
            features = data['features']
        with open(json_path) as f:
            meta = json.load(f)
        if meta.get('format') != 'mmdcct.GalleryIndex':
            raise ValueError(f'{json_path!r} is not a GalleryIndex file')
        entries = meta['entries']
        if len(entries) != len(features):
            raise ValueError(f'{json_path!r} lists {len(entries)} entries '
                             f'but {npz_path!r} has {len(features)} rows')
        saved = dict(meta.get('search_backend') or dict(type='exact'))
        saved_type = saved.pop('type', 'exact')
        faiss_file = saved.pop('file', None)
        fingerprint = saved.pop('fingerprint', None)
        if backend is None or backend == saved_type:
            backend, cfg = saved_type, dict(saved)
        else:
            cfg, faiss_file = {}, None
        cfg.update(backend_cfg or {})
        index = cls(features, entries, info=meta.get('info'),
                    normalize=False, backend=backend, backend_cfg=cfg)
        if faiss_file:
            index._read_faiss(osp.join(osp.dirname(stem), faiss_file),
                              saved, fingerprint)
        return index

    def _read_faiss(self, faiss_path: str, saved_cfg: dict,
                    fingerprint: Optional[str]) -> None:
        """Adopt a saved FAISS index built with the current build
        parameters over these features; else warn (it is built again)."""
        import warnings
        if any(saved_cfg.get(k) != v
               for k, v in self._backend_request.items()
               if k not in SEARCH_TIME_PARAMS):
            return  # other build parameters asked for: built again anyway
        reason = None
        if not osp.isfile(faiss_path):
            reason = 'is missing'
        elif fingerprint != _fingerprint(self.features):
            reason = 'was built over other features'
        else:
            faiss_index = import_faiss().read_index(faiss_path)
            if (faiss_index.ntotal, faiss_index.d) != (len(self),
                                                       self.feature_dim):
                reason = (f'holds {faiss_index.ntotal} x {faiss_index.d} '
                          'entries')
        if reason is not None:
            warnings.warn(f'FAISS index {faiss_path!r} {reason}; it is '
                          'built again from the features on the first '
                          'search.')
            return
        cfg = resolve_backend_cfg(self.backend, self._backend_request,
                                  len(self))
        set_search_params(faiss_index, self.backend, cfg)
        self._faiss_index = faiss_index
        self.backend_cfg = cfg

    # ------------------------------------------------------------------
    # search
    # ------------------------------------------------------------------
    def search(self,
               query_feats: np.ndarray,
               topk: int = 10,
               chunk_size: int = 1024) -> Tuple[np.ndarray, np.ndarray]:
        """The ``topk`` nearest gallery entries of every query.

        Args:
            query_feats (np.ndarray): ``(Q, C)`` or ``(C,)`` features
                (normalised here).
            topk (int): Entries per query (clipped to the gallery size).
                Defaults to 10.
            chunk_size (int): Queries ranked at once. Defaults to 1024.

        Returns:
            tuple[np.ndarray, np.ndarray]: ``distances`` ``(Q, k)`` float32
            ascending (cosine distance) and ``indices`` ``(Q, k)`` int64 into
            the gallery; ties keep gallery order. The approximate FAISS
            backends may find fewer than ``k`` entries: those slots hold
            index -1 and distance ``inf``.
        """
        if len(self) == 0:
            raise ValueError('The gallery is empty.')
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        q = np.asarray(query_feats, dtype=np.float32)
        if q.ndim == 1:
            q = q[None]
        if q.ndim != 2 or q.shape[1] != self.feature_dim:
            mode = self.info.get('feature')
            raise ValueError(
                f'Query features must be (Q, {self.feature_dim}), got shape '
                f'{q.shape}: the index holds width-{self.feature_dim} '
                'features' + (f' (feature {mode!r})' if mode else '') +
                '. Embed the queries with the model and feature mode that '
                'built the index.')
        if self.backend != 'exact':
            q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
            return faiss_search(self.build_search_backend(), q,
                                min(int(topk), len(self)))
        # at most _EXACT_BLOCK distances at once, for a large gallery
        chunk_size = max(1, min(chunk_size, _EXACT_BLOCK // len(self)))
        dists, inds = [], []
        for _, d in distance_chunks(q, self.features, 'cosine', chunk_size):
            order, d = rank_topk(d, topk)
            inds.append(order)
            # float error can make a self-match slightly negative
            dists.append(np.maximum(d, 0))
        return (np.concatenate(dists).astype(np.float32),
                np.concatenate(inds).astype(np.int64))

    def lookup(self, distances: np.ndarray,
               indices: np.ndarray) -> List[List[dict]]:
        """Turn :meth:`search` output into readable hits.

        Args:
            distances (np.ndarray): ``(Q, k)``.
            indices (np.ndarray): ``(Q, k)``.

        Returns:
            list[list[dict]]: Per query, per rank: ``rank`` (1-based),
            ``index``, ``distance`` and the entry's metadata.
        """
        out = []
        for d_row, i_row in zip(distances, indices):
            hits = []
            for rank, (d, i) in enumerate(zip(d_row, i_row), 1):
                if i < 0:  # an approximate search found fewer entries
                    continue
                hit = dict(rank=rank, index=int(i), distance=float(d))
                hit.update(self.metadata[int(i)])
                hits.append(hit)
            out.append(hits)
        return out

    def query(self,
              inferencer: Callable,
              tracklets: Union[str, Sequence[Any]],
              topk: int = 10,
              batch_size: int = 8,
              progress: bool = True) -> List[List[dict]]:
        """Embed query tracklets and search the gallery.

        Args:
            inferencer (VideoReIDInferencer): Embeds the queries (with the
                same model and feature mode as the gallery; a mode other
                than the recorded one raises a ``ValueError``).
            tracklets (str | Sequence): Query tracklets: folders (expanded
                and split by :func:`find_tracklets`), lists of frame paths
                or arrays.
            topk (int): Hits per query. Defaults to 10.
            batch_size (int): Tracklets per forward. Defaults to 8.
            progress (bool): Show a progress bar. Defaults to True.

        Returns:
            list[list[dict]]: See :meth:`lookup`.
        """
        check_feature_mode(inferencer, self.info)
        if isinstance(tracklets, (str, os.PathLike)):
            tracklets = [tracklets]
        tracklets = list(tracklets)
        if all(isinstance(t, (str, os.PathLike)) for t in tracklets):
            tracklets = [t['frames'] for t in find_tracklets(tracklets)]
        feats = inferencer.extract(
            tracklets, batch_size=batch_size, progress=progress)
        return self.lookup(*self.search(feats, topk))


def format_search_results(results: List[List[dict]],
                          query_names: Optional[Sequence[str]] = None,
                          show_ids: bool = True) -> str:
    """A plain-text table of search hits.

    Args:
        results (list[list[dict]]): :meth:`GalleryIndex.lookup` output.
        query_names (Sequence[str], optional): One name per query. Defaults
            to ``query 0``, ``query 1`` ...
        show_ids (bool): Add the ``pid`` and ``camera`` columns (the
            camera as ``C<camid>``, 1-based as in file names). Defaults to
            True.

    Returns:
        str: The table, one block per query.
    """
    lines = []
    for qi, hits in enumerate(results):
        name = query_names[qi] if query_names is not None else f'query {qi}'
        lines.append(f'query: {name}')
        header = f'{"rank":>4}  {"distance":>8}'
        if show_ids:
            header += f'  {"pid":>5}  {"camera":>6}'
        lines.append(header + '  gallery tracklet')
        for hit in hits:
            row = f'{hit["rank"]:>4}  {hit["distance"]:>8.4f}'
            if show_ids:
                pid = '-' if hit.get('pid') is None else hit['pid']
                cam = '-' if hit.get('camid') is None else f'C{hit["camid"]}'
                row += f'  {pid:>5}  {cam:>6}'
            lines.append(row + f'  {hit.get("name") or hit.get("path", "")}')
        lines.append('')
    return '\n'.join(lines)

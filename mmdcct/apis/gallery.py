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
"""
import json
import os
import os.path as osp
import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple
from typing import Union

import numpy as np

from mmdcct.evaluation.functional import compute_distance
from .inferencer import find_tracklet_dirs, list_tracklet_frames

__all__ = [
    'GalleryIndex', 'parse_pid_camid', 'format_search_results',
    'DEFAULT_NAME_PATTERN'
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


def _stem(path: str) -> str:
    """``x/gallery.npz`` / ``x/gallery.json`` / ``x/gallery`` -> ``x/gallery``.
    """
    path = os.fspath(path)
    root, ext = osp.splitext(path)
    return root if ext.lower() in ('.npz', '.json') else path


def _opt_int(value: Any) -> Optional[int]:
    """int, or None for None."""
    return None if value is None else int(value)


class GalleryIndex:
    """Tracklet features with their metadata, searchable by cosine distance.

    Args:
        features (np.ndarray): ``(G, C)`` features; they are L2-normalised
            (float32) on construction.
        metadata (Sequence[dict], optional): One dict per row with ``path``
            (str) and optionally ``pid`` / ``camid`` (int or None) and any
            JSON-serialisable extra keys. Defaults to ``path=''``.
        info (dict, optional): JSON-serialisable information about how the
            features were made (config, checkpoint, feature mode ...).
        normalize (bool): L2-normalise the features. Defaults to True
            (:meth:`load` skips it: saved features are normalised).
    """

    def __init__(self,
                 features: np.ndarray,
                 metadata: Optional[Sequence[dict]] = None,
                 info: Optional[dict] = None,
                 normalize: bool = True) -> None:
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
                sub-folders are tracklets (see :func:`find_tracklet_dirs`).
            pids (Sequence[int | None], optional): Identities, one per
                tracklet; override the parsed ones. Defaults to None.
            camids (Sequence[int | None], optional): Cameras, one per
                tracklet; override the parsed ones. Defaults to None.
            pattern (str, optional): Name pattern for
                :func:`parse_pid_camid`; None disables parsing.
            batch_size (int): Tracklets per forward. Defaults to 8.
            progress (bool): Show a progress bar. Defaults to True.

        Returns:
            GalleryIndex: The index, in folder order.
        """
        dirs = find_tracklet_dirs(folders)
        for name, values in (('pids', pids), ('camids', camids)):
            if values is not None and len(values) != len(dirs):
                raise ValueError(f'{len(values)} {name} for {len(dirs)} '
                                 'tracklets')
        metadata = []
        for i, path in enumerate(dirs):
            meta = dict(
                path=osp.abspath(path), **parse_pid_camid(path, pattern))
            if pids is not None:
                meta['pid'] = pids[i]
            if camids is not None:
                meta['camid'] = camids[i]
            meta['num_frames'] = len(list_tracklet_frames(path))
            metadata.append(meta)
        feats = inferencer.extract(
            dirs, batch_size=batch_size, progress=progress)
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
        """list[str]: Tracklet paths."""
        return [m['path'] for m in self.metadata]

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
    # IO
    # ------------------------------------------------------------------
    def save(self, path: str) -> Tuple[str, str]:
        """Write ``<stem>.npz`` (features) and ``<stem>.json`` (metadata).

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
        with open(json_path, 'w') as f:
            json.dump(
                dict(
                    format='mmdcct.GalleryIndex',
                    version=FORMAT_VERSION,
                    num_entries=len(self),
                    feature_dim=self.feature_dim if len(self) else 0,
                    distance='cosine',
                    info=self.info,
                    entries=self.metadata),
                f,
                indent=1)
        return npz_path, json_path

    @classmethod
    def load(cls, path: str) -> 'GalleryIndex':
        """Read an index written by :meth:`save`.

        Args:
            path (str): ``<stem>``, ``<stem>.npz`` or ``<stem>.json``.

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
        return cls(features, entries, info=meta.get('info'), normalize=False)

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
            the gallery; ties keep gallery order.
        """
        if len(self) == 0:
            raise ValueError('The gallery is empty.')
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        q = np.asarray(query_feats, dtype=np.float32)
        if q.ndim == 1:
            q = q[None]
        if q.ndim != 2 or q.shape[1] != self.feature_dim:
            raise ValueError(f'Query features must be (Q, {self.feature_dim})'
                             f', got {q.shape}')
        k = min(int(topk), len(self))
        dists, inds = [], []
        for start in range(0, len(q), chunk_size):
            d = compute_distance(q[start:start + chunk_size], self.features,
                                 'cosine').numpy()
            order = np.argsort(d, axis=1, kind='stable')[:, :k]
            inds.append(order)
            # float error can make a self-match slightly negative
            dists.append(np.maximum(np.take_along_axis(d, order, axis=1), 0))
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
                same model and feature mode as the gallery).
            tracklets (str | Sequence): Query tracklets: folders (or folders
                of tracklet folders), lists of frame paths or arrays.
            topk (int): Hits per query. Defaults to 10.
            batch_size (int): Tracklets per forward. Defaults to 8.
            progress (bool): Show a progress bar. Defaults to True.

        Returns:
            list[list[dict]]: See :meth:`lookup`.
        """
        if isinstance(tracklets, (str, os.PathLike)):
            tracklets = [tracklets]
        tracklets = list(tracklets)
        if all(isinstance(t, (str, os.PathLike)) for t in tracklets):
            tracklets = find_tracklet_dirs(tracklets)
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
        show_ids (bool): Add the ``pid`` / ``camid`` columns. Defaults to
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
            header += f'  {"pid":>5}  {"camid":>5}'
        lines.append(header + '  gallery path')
        for hit in hits:
            row = f'{hit["rank"]:>4}  {hit["distance"]:>8.4f}'
            if show_ids:
                pid = '-' if hit.get('pid') is None else hit['pid']
                cam = '-' if hit.get('camid') is None else hit['camid']
                row += f'  {pid:>5}  {cam:>5}'
            lines.append(row + f'  {hit.get("path", "")}')
        lines.append('')
    return '\n'.join(lines)

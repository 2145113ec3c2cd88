"""LS-VID (Large-Scale VIDeo) person Re-ID dataset."""
import bisect
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from mmdcct.registry import DATASETS
from .base_video_reid_dataset import BaseVideoReIDDataset

__all__ = ['LSVID', 'parse_ls_vid_camera']

#: Folders (relative to ``data_root``) searched in order for the lists.
LIST_DIRS = ('list_sequence', osp.join('info', 'list_sequence'), 'info')
#: Files (relative to ``data_root``) searched in order for the query indices.
QUERY_FILES = (osp.join('test', 'data', 'info_test.mat'),
               osp.join('info', 'test', 'data', 'info_test.mat'),
               osp.join('info', 'info_test.mat'))
#: Extensions of the frame files.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')


def parse_ls_vid_camera(name: str) -> int:
    """Read the camera of an LS-VID frame from its file name.

    Args:
        name (str): A frame file name (or path); the camera is its third
            ``_``-separated field, e.g. ``3`` in ``'0012_01_0003_...jpg'``.

    Returns:
        int: The **1-based** camera as written in the name.

    Raises:
        ValueError: If the name has no numeric third field.
    """
    fields = osp.basename(name).split('_')
    if len(fields) < 4 or not fields[2].isdigit():
        raise ValueError(f'"{name}" is not an LS-VID frame name: the camera '
                         'must be its third "_"-separated field, e.g. '
                         '"0012_01_0003_0001_00001.jpg".')
    return int(fields[2])


def _import_h5py(path: str):
    """Import h5py, or say how to install it."""
    try:
        import h5py
    except ImportError as e:
        raise ImportError(
            f'LSVID reads "{path}", a MATLAB v7.3 (HDF5) file, with h5py, '
            'which is not installed. Install it with `pip install h5py` or '
            '`pip install -e ".[lsvid]"`.') from e
    return h5py


@DATASETS.register_module()
class LSVID(BaseVideoReIDDataset):
    """LS-VID video person Re-ID dataset.

    Li et al. *Global-Local Temporal Representations for Video Person
    Re-Identification*, ICCV 2019. 3,772 identities seen by 15 cameras:
    2,831 training tracklets (842 identities) and a test set of 3,504 query
    and 7,829 gallery tracklets. Released on request only.

    Protocol (the authors' and the public loaders'): the queries are the
    rows of the test list named by ``info_test.mat``; the gallery is the
    test list **without** the queries (``gallery_includes_query=False``);
    junk (``-1``) is dropped. The evaluation removes, per query, gallery
    entries with the same identity and camera.

    Expected layout of ``data_root`` (the ``LS-VID`` folder)::

        data_root/
        ├── list_sequence/           # or info/list_sequence/, or info/
        │   ├── list_seq_train.txt   # "<relative path prefix> <pid>" a line
        │   └── list_seq_test.txt
        ├── test/data/info_test.mat  # MATLAB v7.3, key 'query' (1-based)
        └── tracklet_train/, tracklet_test/, ... (the frames)

    The frames of a tracklet are the files whose path (relative to
    ``data_root``) starts with its prefix, in name order; the camera is the
    third ``_``-separated field of a frame's name (1 to 15). Each folder is
    listed once, however many tracklets it holds. The query file is read
    with h5py (``pip install -e ".[lsvid]"``); the training split does not
    need it.

    ``tracklet_id`` is the 0-based row of the tracklet in its list file.

    Args:
        data_root (str): The ``LS-VID`` folder.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``
            (query ∪ gallery). Defaults to ``'train'``.
        pipeline (Sequence[dict | Callable]): Data transforms. Defaults to
            ``()``.
        gallery_includes_query (bool, optional): Whether the query
            tracklets are also gallery tracklets. Defaults to None: the
            class's ``GALLERY_INCLUDES_QUERY`` (False, the LS-VID
            protocol).
        **kwargs: Other arguments of :class:`BaseVideoReIDDataset`.

    Examples:
        >>> from mmdcct.registry import DATASETS
        >>> test_set = DATASETS.build(
        ...     dict(type='LSVID', data_root='data/LS-VID', split='test'))
    """

    METAINFO = dict(dataset_name='LS-VID')

    #: Number of cameras; frame names must have cameras ``1 .. NUM_CAMS``.
    NUM_CAMS: int = 15

    EXPECTED_LAYOUT = (
        '  data_root/  (the LS-VID folder)\n'
        '  ├── list_sequence/  (or info/list_sequence/, or info/)\n'
        '  │   ├── list_seq_train.txt  ("<relative path prefix> <pid>")\n'
        '  │   └── list_seq_test.txt\n'
        '  ├── test/data/info_test.mat  (MATLAB v7.3, key "query")\n'
        '  └── tracklet_train/, tracklet_test/, ...  (the frames)')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 gallery_includes_query: Optional[bool] = None,
                 test_mode: Optional[bool] = None,
                 **kwargs) -> None:
        self._test_tracks: Optional[List[dict]] = None
        super().__init__(
            data_root=data_root,
            split=split,
            pipeline=pipeline,
            gallery_includes_query=gallery_includes_query,
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Build the data list, then free the parsed test list.

        Returns:
            list[dict]: The tracklets of the split.
        """
        try:
            return super().load_data_list()
        finally:
            self._test_tracks = None

    # -------------------------------------------------------------- loading
    def load_tracklets(self, split: str) -> List[dict]:
        """Load the raw tracklets of ``'train'``, ``'query'`` or
        ``'gallery'``.

        Args:
            split (str): ``'train'``, ``'query'`` or ``'gallery'`` (the test
                list without the queries, junk included; the base class
                drops it).

        Returns:
            list[dict]: Tracklets with ``img_paths``, ``pid`` (raw),
            ``camid`` (0-based) and ``tracklet_id`` (0-based row of the list
            file); the queries in the order of ``info_test.mat``.
        """
        if split == 'train':
            return self._load_list('list_seq_train.txt')
        if self._test_tracks is None:
            self._test_tracks = self._load_list('list_seq_test.txt')
        tracks = self._test_tracks
        query_idx = self._load_query_idx(len(tracks))
        if split == 'query':
            return [tracks[i] for i in query_idx]
        is_query = np.zeros(len(tracks), dtype=bool)
        is_query[query_idx] = True
        return [t for t, q in zip(tracks, is_query) if not q]

    def _find(self, candidates: Sequence[str], what: str) -> str:
        """Return the first existing ``data_root/<candidate>``."""
        paths = [osp.join(self.data_root, c) for c in candidates]
        for path in paths:
            if osp.isfile(path):
                return path
        tried = ', '.join(f'"{p}"' for p in paths)
        raise FileNotFoundError(
            f'LSVID requires {what}, found none of {tried} '
            f'(data_root="{self.data_root}").{self._layout_hint()}')

    def _load_list(self, name: str) -> List[dict]:
        """Parse one list file and find the frames of every tracklet.

        Args:
            name (str): ``'list_seq_train.txt'`` or ``'list_seq_test.txt'``.

        Returns:
            list[dict]: One tracklet per line, in file order.
        """
        list_file = self._find([osp.join(d, name) for d in LIST_DIRS],
                               f'the tracklet list {name}')
        entries: List[Tuple[str, int, int]] = []
        for lineno, line in enumerate(self.read_text_lines(list_file), 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or not fields[1].lstrip('-').isdigit():
                raise ValueError(
                    f'{list_file}, line {lineno}: expected "<relative '
                    f'path prefix> <pid>", got "{line.strip()}".')
            entries.append((fields[0], int(fields[1]), lineno))

        listings: Dict[str, List[str]] = {}
        claimed: Dict[str, List[Tuple[int, int, int]]] = {}
        tracks = []
        for row, (prefix, pid, lineno) in enumerate(entries):
            where = f'{list_file}, line {lineno} ("{prefix}")'
            folder, stem = osp.split(osp.join(self.data_root, prefix))
            if folder not in listings:
                if not osp.isdir(folder):
                    state = ('is a file, not a directory' if
                             osp.isfile(folder) else 'does not exist')
                    raise FileNotFoundError(
                        f'{where}: the folder "{folder}" {state} '
                        f'(data_root="{self.data_root}").')
                listings[folder] = sorted(
                    e.name for e in os.scandir(folder)
                    if e.is_file() and not e.name.startswith('.')
                    and e.name.lower().endswith(IMG_EXTENSIONS))
            names = listings[folder]
            # the names starting with ``stem`` are contiguous in sorted order
            lo = hi = bisect.bisect_left(names, stem)
            while hi < len(names) and names[hi].startswith(stem):
                hi += 1
            if lo == hi:
                raise FileNotFoundError(
                    f'{where}: no frame in "{folder}" starts with "{stem}".')
            claimed.setdefault(folder, []).append((lo, hi, lineno))
            cams = set()
            for frame in names[lo:hi]:
                try:
                    cam = parse_ls_vid_camera(frame)
                except ValueError as e:
                    raise ValueError(f'{where}: {e}') from None
                if not 1 <= cam <= self.NUM_CAMS:
                    raise ValueError(
                        f'{where}: the frame "{osp.join(folder, frame)}" has '
                        f'the unknown camera {cam}; LS-VID has cameras '
                        f'1..{self.NUM_CAMS}.')
                cams.add(cam)
            if len(cams) > 1:
                raise ValueError(f'{where}: the frames mix cameras '
                                 f'{sorted(cams)}.')
            tracks.append(
                dict(
                    img_paths=[osp.join(folder, n) for n in names[lo:hi]],
                    pid=pid,
                    camid=cams.pop() - 1,
                    tracklet_id=row))
        self._warn_shared_frames(list_file, claimed)
        return tracks

    def _warn_shared_frames(
            self, list_file: str,
            claimed: Dict[str, List[Tuple[int, int, int]]]) -> None:
        """Warn if a prefix is a prefix of another one (shared frames)."""
        shared = []
        for folder, ranges in claimed.items():
            ranges = sorted(ranges)
            for (_, hi, a), (lo, _, b) in zip(ranges, ranges[1:]):
                if lo < hi:
                    shared.append((a, b))
        if shared:
            a, b = shared[0]
            self.log_warning(
                f'{len(shared)} pair(s) of tracklets of {list_file} share '
                f'frames (e.g. lines {a} and {b}): a prefix is listed twice '
                'or starts another one.')

    def _load_query_idx(self, num_tracks: int) -> np.ndarray:
        """Read the 0-based query rows of the test list.

        Args:
            num_tracks (int): The number of lines of the test list.

        Returns:
            np.ndarray: ``int64`` array of shape ``(Q, )``.
        """
        path = self._find(QUERY_FILES, 'the query indices info_test.mat')
        h5py = _import_h5py(path)
        try:
            with h5py.File(path, 'r') as f:
                if 'query' not in f:
                    raise ValueError(f'"{path}" has no dataset "query" '
                                     f'(found {sorted(f.keys())}).')
                values = np.asarray(f['query'][()])
        except OSError as e:
            raise ValueError(
                f'Cannot read "{path}" as a MATLAB v7.3 (HDF5) file: '
                f'{e}') from e
        # MATLAB writes a 1 x Q vector as (Q, 1) in HDF5 and Q x 1 as (1, Q)
        if values.ndim > 2 or (values.ndim == 2 and min(values.shape) > 1):
            raise ValueError(f'{path}: "query" must be a vector of 1-based '
                             f'test list rows, got shape {values.shape}.')
        values = values.reshape(-1)
        if not np.all(np.isfinite(values)) or \
                not np.array_equal(values, np.round(values)):
            raise ValueError(f'{path}: "query" must hold whole numbers.')
        query_idx = values.astype(np.int64) - 1
        if len(query_idx) and (query_idx.min() < 0
                               or query_idx.max() >= num_tracks):
            raise ValueError(
                f'{path}: query indices must lie in 1..{num_tracks} (the '
                f'number of lines of list_seq_test.txt), got '
                f'{query_idx.min() + 1}..{query_idx.max() + 1}.')
        if len(np.unique(query_idx)) != len(query_idx):
            raise ValueError(f'{path}: duplicated query indices.')
        return query_idx

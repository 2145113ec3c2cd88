"""MARS (Motion Analysis and Re-identification Set) video Re-ID dataset."""
import os.path as osp
import re
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from scipy.io import loadmat

from mmdcct.registry import DATASETS
from .base_video_reid_dataset import BaseVideoReIDDataset

__all__ = ['MARS', 'parse_mars_name']

#: ``0001C1T0001F001.jpg``: identity (4 chars, ``00-1`` is the junk id -1),
#: camera (1-based), tracklet and frame numbers.
MARS_NAME_PATTERN = re.compile(
    r'^(?P<pid>\d{4}|00-1)C(?P<cam>\d+)T(?P<tracklet>\d+)F(?P<frame>\d+)')


def parse_mars_name(name: str) -> dict:
    """Parse a MARS image file name.

    Args:
        name (str): A file name such as ``'0001C1T0001F001.jpg'`` (junk
            identities are written ``'00-1'``).

    Returns:
        dict: ``pid`` (int, ``-1`` for junk), ``cam`` (int, **1-based** as in
        the name), ``tracklet`` (int) and ``frame`` (int).

    Raises:
        ValueError: If the name does not follow the MARS convention.
    """
    match = MARS_NAME_PATTERN.match(osp.basename(name))
    if match is None:
        raise ValueError(f'"{name}" is not a MARS image name such as '
                         '"0001C1T0001F001.jpg".')
    pid_str = match.group('pid')
    return dict(
        pid=-1 if pid_str == '00-1' else int(pid_str),
        cam=int(match.group('cam')),
        tracklet=int(match.group('tracklet')),
        frame=int(match.group('frame')))


@DATASETS.register_module()
class MARS(BaseVideoReIDDataset):
    """MARS video person Re-ID dataset.

    Zheng et al. *MARS: A Video Benchmark for Large-Scale Person
    Re-identification*, ECCV 2016. 1,261 identities seen by 6 cameras:
    625 training identities (8,298 tracklets) and a test set of 1,980 query
    and 9,330 gallery tracklets (plus 3,248 distractor tracklets of identity
    ``0`` included in the gallery count and 870 junk tracklets of identity
    ``-1``, dropped).

    Protocol (the one the video Re-ID literature runs): the queries are the
    test tracks listed in ``query_IDX.mat``; the gallery is the remaining test
    tracks **plus the query tracklets** (``gallery_includes_query=True``,
    otherwise 140 queries have no cross-camera match); junk is dropped and
    distractors are kept in the gallery. The evaluation then removes, per
    query, gallery entries with the same identity and camera.

    Expected layout of ``data_root``::

        data_root/
        ├── bbox_train/<pid>/<pid>C<cam>T<tracklet>F<frame>.jpg
        ├── bbox_test/<pid>/<pid>C<cam>T<tracklet>F<frame>.jpg
        └── info/
            ├── train_name.txt          # one image name per line
            ├── test_name.txt
            ├── tracks_train_info.mat   # key 'track_train_info', N x 4
            ├── tracks_test_info.mat    # key 'track_test_info', N x 4
            └── query_IDX.mat           # key 'query_IDX'

    Each row of ``tracks_*_info.mat`` is ``(start, end, pid, cam)``: 1-based
    inclusive indices into the name list, the identity and the 1-based
    camera; ``query_IDX`` holds 1-based row indices into the test tracks.

    Args:
        data_root (str): The folder holding ``bbox_train/``, ``bbox_test/``
            and ``info/``.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``
            (query ∪ gallery, each tracklet once). Defaults to ``'train'``.
        pipeline (Sequence[dict | Callable]): Data transforms. Defaults to
            ``()``.
        gallery_includes_query (bool, optional): Whether the query
            tracklets are also gallery tracklets. Defaults to None:
            the class's ``GALLERY_INCLUDES_QUERY`` (True).
        **kwargs: Other arguments of :class:`BaseVideoReIDDataset`
            (``test_mode``, ``metainfo``, ``indices``, ``lazy_init``,
            ``serialize_data``, ``max_refetch``).

    Examples:
        >>> from mmdcct.registry import DATASETS
        >>> query_and_gallery = DATASETS.build(
        ...     dict(type='MARS', data_root='data/MARS', split='test'))
    """

    METAINFO = dict(dataset_name='MARS')

    #: Number of cameras; image names must have cameras ``1 .. NUM_CAMS``.
    NUM_CAMS: int = 6
    #: The MARS protocol appends the queries to the gallery.
    GALLERY_INCLUDES_QUERY: bool = True

    EXPECTED_LAYOUT = (
        '  data_root/\n'
        '  ├── bbox_train/<pid>/<pid>C<cam>T<tracklet>F<frame>.jpg\n'
        '  ├── bbox_test/<pid>/<pid>C<cam>T<tracklet>F<frame>.jpg\n'
        '  └── info/\n'
        '      ├── train_name.txt\n'
        '      ├── test_name.txt\n'
        '      ├── tracks_train_info.mat  (key "track_train_info")\n'
        '      ├── tracks_test_info.mat   (key "track_test_info")\n'
        '      └── query_IDX.mat          (key "query_IDX")')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 gallery_includes_query: Optional[bool] = None,
                 test_mode: Optional[bool] = None,
                 **kwargs) -> None:
        super().__init__(
            data_root=data_root,
            split=split,
            pipeline=pipeline,
            gallery_includes_query=gallery_includes_query,
            test_mode=test_mode,
            **kwargs)

    # -------------------------------------------------------------- loading
    def load_tracklets(self, split: str) -> List[dict]:
        """Load the raw tracklets of ``'train'``, ``'query'`` or
        ``'gallery'``.

        Args:
            split (str): ``'train'``, ``'query'`` or ``'gallery'`` (the test
                tracks not listed in ``query_IDX.mat``, junk included; the
                base class drops it and appends the queries).

        Returns:
            list[dict]: Tracklets with ``img_paths``, ``pid`` (raw),
            ``camid`` (0-based) and ``tracklet_id`` (0-based row of the
            ``tracks_*_info.mat`` file).
        """
        info_dir = osp.join(self.data_root, 'info')
        if split == 'train':
            return self._load_subset('train', info_dir)
        tracks = self._load_subset('test', info_dir)
        query_file = self.check_file_exists(
            osp.join(info_dir, 'query_IDX.mat'), kind='file')
        query_idx = self._load_mat(query_file, 'query_IDX').reshape(-1)
        query_idx = query_idx.astype(np.int64) - 1
        if len(query_idx) and (query_idx.min() < 0
                               or query_idx.max() >= len(tracks)):
            raise ValueError(
                f'{query_file}: query indices must lie in 1..{len(tracks)} '
                f'(the number of test tracks), got {query_idx.min() + 1}..'
                f'{query_idx.max() + 1}.')
        if len(np.unique(query_idx)) != len(query_idx):
            raise ValueError(f'{query_file}: duplicated query indices.')
        if split == 'query':
            return [tracks[i] for i in query_idx]
        is_query = np.zeros(len(tracks), dtype=bool)
        is_query[query_idx] = True
        return [t for t, q in zip(tracks, is_query) if not q]

    def _load_subset(self, subset: str, info_dir: str) -> List[dict]:
        """Parse the name list and the track table of ``train`` or ``test``.

        Args:
            subset (str): ``'train'`` or ``'test'``.
            info_dir (str): The ``info`` folder.

        Returns:
            list[dict]: All tracks of the subset, in the order of the table.
        """
        name_file = self.check_file_exists(
            osp.join(info_dir, f'{subset}_name.txt'), kind='file')
        track_file = self.check_file_exists(
            osp.join(info_dir, f'tracks_{subset}_info.mat'), kind='file')
        img_dir = self.check_file_exists(
            osp.join(self.data_root, f'bbox_{subset}'), kind='dir')

        names = [line.strip() for line in self.read_text_lines(name_file)]
        names = [name for name in names if name]
        table = self._load_mat(track_file, f'track_{subset}_info')
        if table.ndim != 2 or table.shape[1] < 4:
            if table.size == 0:
                return []
            raise ValueError(
                f'{track_file}: "track_{subset}_info" must be an N x 4 '
                f'array (start, end, pid, cam), got shape {table.shape}.')
        table = table[:, :4].astype(np.int64)
        self._check_duplicated_rows(table, track_file)

        tracks = []
        for row, (start, end, pid, cam) in enumerate(table.tolist()):
            where = (f'{track_file}, row {row + 1} '
                     f'({start}, {end}, {pid}, {cam})')
            if not 1 <= start <= end <= len(names):
                raise ValueError(
                    f'{where}: indices out of 1..{len(names)} (the number of '
                    f'names in {name_file}).')
            frames = []
            for name in names[start - 1:end]:
                try:
                    parsed = parse_mars_name(name)
                except ValueError as e:
                    raise ValueError(f'{name_file}: {e}') from None
                if not 1 <= parsed['cam'] <= self.NUM_CAMS:
                    raise ValueError(
                        f'{where}: the image "{name}" of {name_file} has the '
                        f'unknown camera C{parsed["cam"]}; MARS has cameras '
                        f'C1..C{self.NUM_CAMS}.')
                if parsed['pid'] != pid or parsed['cam'] != cam:
                    raise ValueError(
                        f'{where}: the image "{name}" of {name_file} has '
                        f'pid {parsed["pid"]} and camera {parsed["cam"]}, '
                        f'but the track says pid {pid} and camera {cam}.')
                frames.append((parsed['frame'], name))
            # temporal order by frame number; stable for equal numbers
            frames.sort(key=lambda item: item[0])
            img_paths = [
                osp.join(img_dir, name[:4], name) for _, name in frames
            ]
            tracks.append(
                dict(
                    img_paths=img_paths,
                    pid=int(pid),
                    camid=int(cam) - 1,
                    tracklet_id=row))
        return tracks

    @staticmethod
    def _check_duplicated_rows(table: np.ndarray, track_file: str) -> None:
        """Raise if two rows of a track table are the same tracklet.

        Two rows with the same ``(start, end)`` name the same frames, hence
        the same identity and camera: one tracklet counted twice (two
        gallery entries, or a query matched by its own copy).

        Args:
            table (np.ndarray): ``(N, 4)`` rows ``(start, end, pid, cam)``.
            track_file (str): The file, for the message.
        """
        first_row = {}
        duplicates = []
        for row, (start, end, pid, cam) in enumerate(table.tolist()):
            key = (start, end)
            if key in first_row:
                duplicates.append((first_row[key], row, start, end, pid, cam))
            else:
                first_row[key] = row
        if not duplicates:
            return
        shown = '; '.join(
            f'row {b + 1} repeats row {a + 1} ({s}, {e}, {p}, {c})'
            for a, b, s, e, p, c in duplicates[:5])
        more = (f' (and {len(duplicates) - 5} more)'
                if len(duplicates) > 5 else '')
        raise ValueError(
            f'{track_file}: {len(duplicates)} duplicated tracklet row(s) '
            f'(start, end, pid, cam): {shown}{more}. Every tracklet must be '
            'listed once. The file is damaged or was edited: restore the '
            'official file (deleting a row of tracks_test_info.mat also '
            'shifts the rows that query_IDX.mat points to).')

    @staticmethod
    def _load_mat(path: str, key: str) -> np.ndarray:
        """Read one array from a ``.mat`` file with a clear error."""
        try:
            mat = loadmat(path)
        except Exception as e:  # scipy raises several types
            raise ValueError(f'Cannot read "{path}": {e}') from e
        if key not in mat:
            keys = [k for k in mat if not k.startswith('__')]
            raise ValueError(f'"{path}" has no key "{key}" (found {keys}).')
        return np.asarray(mat[key])

"""Shared logic of the two-camera video Re-ID datasets with 10 random splits
(iLIDS-VID and PRID-2011)."""
import glob
import os
import os.path as osp
from abc import abstractmethod
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from .base_video_reid_dataset import (BaseVideoReIDDataset,
                                      sort_frames_by_number)

__all__ = ['TwoCameraVideoReIDDataset']


class TwoCameraVideoReIDDataset(BaseVideoReIDDataset):
    """Base class of the datasets whose people are seen by two cameras and
    whose protocol draws random train/test splits of the identities.

    Every person has (at most) one tracklet per camera, the folder
    ``<camera dir>/<person>/`` holding its frames. A split is a pair of
    disjoint person lists; ``split_id`` picks one. The train split holds the
    tracklets of both cameras of the train persons; the queries are the
    first camera's tracklets of the test persons and the gallery the second
    camera's.

    Split files: a subclass reads its dataset's standard split file (see
    :meth:`read_split_file`). When ``split_file`` is None (the default) and
    the standard file is missing, the splits are **generated reproducibly
    from** ``split_seed`` (:meth:`generate_splits`), a warning says so, and
    the generated splits are **kept in memory only**: nothing is written
    (so a user's file is never overwritten, a read-only ``data_root`` works
    and all ranks of a distributed job generate the same splits). An
    explicit ``split_file`` that does not exist is an error.

    ``pid`` is the person number of the folder name (``person012`` -> 12),
    relabelled to ``0 .. N-1`` for ``split='train'``; ``camid`` is 0 for the
    first and 1 for the second camera; ``tracklet_id`` is
    ``2 * (index of the person in the sorted union of both cameras' person
    folders) + camid``, stable across splits. Frames are sorted by the last
    number of their file name. An empty person folder is skipped with a
    warning.

    Args:
        data_root (str): Root folder of the dataset.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``.
            Defaults to ``'train'``.
        split_id (int): Which split of the split file to use, ``0 ..
            num_splits - 1``. Defaults to 0.
        split_file (str, optional): A split file to use instead of the
            standard one (relative paths are relative to ``data_root``);
            must exist. Defaults to None (the standard file, or generated
            splits if it is missing).
        split_seed (int): Seed of the generated splits. Defaults to 0.
        num_splits (int): Number of generated splits. Defaults to 10.
        pipeline (Sequence[dict | Callable]): Data transforms. Defaults to
            ``()``.
        gallery_includes_query (bool, optional): Whether the query
            tracklets are also gallery tracklets. Defaults to None:
            the class's ``GALLERY_INCLUDES_QUERY`` (False).
        **kwargs: Other arguments of :class:`BaseVideoReIDDataset`.
    """

    #: The two camera folder names (query camera first).
    CAMERAS: Tuple[str, str] = ('cam1', 'cam2')
    #: Extension of the frame files.
    FRAME_EXT: str = '.png'

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 split_id: int = 0,
                 split_file: Optional[str] = None,
                 split_seed: int = 0,
                 num_splits: int = 10,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 gallery_includes_query: Optional[bool] = None,
                 test_mode: Optional[bool] = None,
                 **kwargs) -> None:
        if isinstance(split_id, bool) or not isinstance(split_id, int) \
                or split_id < 0:
            raise ValueError(f'split_id must be a non-negative int, got '
                             f'{split_id!r}.')
        if not isinstance(num_splits, int) or num_splits < 1:
            raise ValueError(
                f'num_splits must be a positive int, got {num_splits!r}.')
        self.split_id = split_id
        self.split_file = split_file
        self.split_seed = int(split_seed)
        self.num_splits = num_splits
        #: ``'file'`` or ``'generated'`` once the splits are loaded.
        self.split_source: Optional[str] = None
        self._split_where = ''
        super().__init__(
            data_root=data_root,
            split=split,
            pipeline=pipeline,
            gallery_includes_query=gallery_includes_query,
            test_mode=test_mode,
            **kwargs)

    # ----------------------------------------------------- subclass hooks
    @property
    @abstractmethod
    def camera_root(self) -> str:
        """The folder holding the two camera folders."""

    @property
    @abstractmethod
    def default_split_file(self) -> str:
        """The path of the dataset's standard split file."""

    @abstractmethod
    def read_split_file(self, path: str,
                        persons: List[str]) -> List[Dict[str, List[str]]]:
        """Read a split file.

        Args:
            path (str): The existing split file.
            persons (list[str]): The sorted person folders of both cameras.

        Returns:
            list[dict]: One ``dict(train=[person folder, ...], test=[...])``
            per split.
        """

    @abstractmethod
    def generate_splits(self,
                        persons: List[str]) -> List[Dict[str, List[str]]]:
        """Generate the splits from ``split_seed`` (standard file missing).

        Args:
            persons (list[str]): The sorted person folders of both cameras.

        Returns:
            list[dict]: ``num_splits`` dicts ``dict(train=[...],
            test=[...])``.
        """

    @abstractmethod
    def person_id(self, person: str) -> int:
        """The identity of a person folder name (e.g. ``person012`` -> 12).

        Raises:
            ValueError: If the name is not a person folder name.
        """

    @property
    def generation_rule(self) -> str:
        """A description of the generated splits, quoted by the warning."""
        return ''

    # ------------------------------------------------------------ helpers
    def camera_dir(self, cam: int) -> str:
        """The existing folder of camera ``cam`` (0 or 1)."""
        self.check_file_exists(self.camera_root, kind='dir')
        return self.check_file_exists(
            osp.join(self.camera_root, self.CAMERAS[cam]), kind='dir')

    def list_persons(self, cam: int) -> List[str]:
        """The sorted person folder names of camera ``cam``."""
        cam_dir = self.camera_dir(cam)
        out = []
        for name in sorted(os.listdir(cam_dir)):
            if name.startswith('.') or not osp.isdir(osp.join(cam_dir, name)):
                continue
            try:
                self.person_id(name)
            except ValueError as e:
                raise ValueError(f'"{osp.join(cam_dir, name)}": {e}'
                                 f'{self._layout_hint()}') from None
            out.append(name)
        return out

    def list_frames(self, cam: int, person: str) -> List[str]:
        """The frames of one tracklet in temporal order (may be empty).

        Raises:
            FileNotFoundError: If the person folder does not exist.
        """
        person_dir = self.check_file_exists(
            osp.join(self.camera_dir(cam), person), kind='dir')
        paths = glob.glob(
            osp.join(glob.escape(person_dir), '*' + self.FRAME_EXT))
        return sort_frames_by_number(paths)

    def _resolve_split_file(self) -> Optional[str]:
        """The split file to read, or None to generate the splits."""
        if self.split_file is not None:
            path = self.split_file
            if not osp.isabs(path):
                path = osp.join(self.data_root, path)
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'The split file "{path}" given as split_file does not '
                    f'exist.{self._layout_hint()}')
            return path
        path = self.default_split_file
        return path if osp.isfile(path) else None

    def load_splits(self) -> List[Dict[str, List[str]]]:
        """Read (or generate) every split; sets ``split_source``.

        Returns:
            list[dict]: ``dict(train=[...], test=[...])`` per split.
        """
        if getattr(self, '_splits', None) is not None:
            return self._splits
        persons = self._all_persons()
        path = self._resolve_split_file()
        if path is not None:
            splits = self.read_split_file(path, persons)
            self.split_source = 'file'
            where = path
        else:
            splits = self.generate_splits(persons)
            self.split_source = 'generated'
            where = f'the splits generated from seed {self.split_seed}'
            self.log_warning(
                f'the split file "{self.default_split_file}" is missing: '
                f'generated {len(splits)} random splits reproducibly from '
                f'split_seed={self.split_seed} '
                f'({self.generation_rule}) and kept them in memory (nothing '
                'was written). They are NOT the standard splits, so results '
                'are not comparable with published ones; put the official '
                'split file there (or pass split_file=...) for those.')
        if not 0 <= self.split_id < len(splits):
            raise ValueError(
                f'split_id={self.split_id} is out of range: {where} holds '
                f'{len(splits)} splits (split_id 0..{len(splits) - 1}).')
        for i, sp in enumerate(splits):
            overlap = set(sp['train']) & set(sp['test'])
            if overlap:
                raise ValueError(
                    f'Split {i} of {where} has persons in both train and '
                    f'test: {sorted(overlap)[:5]}.')
        self._splits = splits
        self._split_where = where
        return splits

    def _all_persons(self) -> List[str]:
        """The sorted union of both cameras' person folders (cached)."""
        if getattr(self, '_persons', None) is None:
            self._persons = sorted(
                set(self.list_persons(0)) | set(self.list_persons(1)))
        return self._persons

    # -------------------------------------------------------------- API
    def load_tracklets(self, split: str) -> List[dict]:
        """Load the tracklets of ``'train'``, ``'query'`` or ``'gallery'``
        for ``split_id``.

        Args:
            split (str): ``'train'`` (both cameras of the train persons),
                ``'query'`` (first camera of the test persons) or
                ``'gallery'`` (second camera of the test persons).

        Returns:
            list[dict]: Tracklets with ``img_paths``, ``pid``, ``camid`` and
            ``tracklet_id``.
        """
        splits = self.load_splits()
        chosen = splits[self.split_id]
        persons = chosen['train'] if split == 'train' else chosen['test']
        cams = {'train': (0, 1), 'query': (0, ), 'gallery': (1, )}[split]
        index = {p: i for i, p in enumerate(self._all_persons())}
        tracklets = []
        for person in sorted(persons, key=self.person_id):
            for cam in cams:
                paths = self.list_frames(cam, person)
                if not paths:
                    self.log_warning(
                        'skipping the empty tracklet folder "'
                        f'{osp.join(self.camera_dir(cam), person)}" (no '
                        f'{self.FRAME_EXT} frame).')
                    continue
                tracklets.append(
                    dict(
                        img_paths=paths,
                        pid=self.person_id(person),
                        camid=cam,
                        tracklet_id=2 * index[person] + cam))
        return tracklets

    def load_data_list(self) -> List[dict]:
        """Build the data list (see :class:`BaseVideoReIDDataset`)."""
        self._splits = None
        self._persons = None
        try:
            return super().load_data_list()
        finally:
            self._splits = None
            self._persons = None

    def _update_metainfo(self, data_list: List[dict]) -> None:
        """Add ``split_id`` and ``split_source`` to the statistics."""
        super()._update_metainfo(data_list)
        self._metainfo.setdefault('split_id', self.split_id)
        self._metainfo.setdefault('split_source', self.split_source)

    def _extra_summary_lines(self) -> List[str]:
        """Name the split used under the summary table."""
        return [
            f'  split_id={self.split_id} of {self._split_where} '
            f'({self.split_source})'
        ]

    def extra_repr(self) -> List[str]:
        """Return the extra lines of ``repr(self)``."""
        return super().extra_repr() + [f'Split id: \t{self.split_id}']

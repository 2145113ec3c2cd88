"""Common logic shared by every video-based person Re-ID dataset."""
import logging
import os.path as osp
import re
from abc import abstractmethod
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger, print_log

__all__ = ['BaseVideoReIDDataset', 'sort_frames_by_number']

#: The splits a video Re-ID dataset can be built for.
SPLITS = ('train', 'query', 'gallery', 'test')


def sort_frames_by_number(
        img_paths: Sequence[str],
        pattern: Union[str, 're.Pattern'] = r'(\d+)(?!.*\d)') -> List[str]:
    """Sort the frames of one tracklet in temporal order.

    The frame number is read from the file name (without the extension) with
    ``pattern``, whose first group must capture the number. The default
    pattern takes the last run of digits of the name. The sort is stable and
    numeric (``F10`` comes after ``F9``), so it does not depend on the order
    in which a directory listing or a name list returns the files.

    Args:
        img_paths (Sequence[str]): Paths of the frames of one tracklet.
        pattern (str | re.Pattern): Regular expression whose first group
            captures the frame number. Defaults to the last run of digits.

    Returns:
        list[str]: The paths sorted by frame number.

    Raises:
        ValueError: If the frame number of a file cannot be parsed.
    """
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern

    def _key(path: str) -> int:
        stem = osp.splitext(osp.basename(path))[0]
        match = regex.search(stem)
        if match is None:
            raise ValueError(
                f'Cannot read a frame number from "{path}" with the pattern '
                f'"{regex.pattern}".')
        return int(match.group(1))

    return sorted(img_paths, key=_key)


class BaseVideoReIDDataset(BaseDataset):
    """Base class of video-based person Re-ID datasets.

    One item of the dataset is a tracklet: a temporally ordered list of frame
    paths of one identity seen by one camera. A subclass only implements
    :meth:`load_tracklets`, which returns the raw tracklets of the ``'train'``,
    ``'query'`` or ``'gallery'`` split; this class then

    - drops the junk identity (``JUNK_PID``, ``-1``) from every split while
      keeping distractors (identity ``0``) untouched;
    - for ``split='train'`` relabels the identities to ``0 .. N-1`` in the
      order of the sorted raw identities (``pid`` is the new label and
      ``raw_pid`` the original one); for the other splits ``pid`` is the raw
      identity;
    - appends the query tracklets to the gallery when
      ``gallery_includes_query`` is True (the MARS protocol of the
      literature; ``None`` takes the dataset's own protocol,
      :attr:`GALLERY_INCLUDES_QUERY`), and builds the ``'test'`` split
      as query ∪ gallery in which every tracklet appears exactly once,
      flagged by ``is_query`` and ``is_gallery``;
    - fills ``metainfo`` and logs a summary table.

    Every item returned by :meth:`get_data_info` holds at least:

    - ``img_paths`` (list[str]): frame paths in temporal order.
    - ``pid`` (int): the training label (``split='train'``) or the raw
      identity (other splits; ``0`` is a distractor).
    - ``raw_pid`` (int): the identity as written by the dataset.
    - ``camid`` (int): the 0-based camera index.
    - ``is_query`` / ``is_gallery`` (bool): the evaluation roles.
    - ``num_frames`` (int): ``len(img_paths)``.
    - ``tracklet_id`` (int): a stable index of the tracklet in the dataset's
      own annotation (the same tracklet has the same id in the ``'query'``,
      ``'gallery'`` and ``'test'`` splits).
    - ``subset`` (str): where the tracklet comes from (``'train'``,
      ``'query'`` or ``'gallery'``).
    - ``sample_idx`` (int): the index in this dataset (added by MMEngine).

    Roles per split:

    ============  ======================  ==================================
    ``split``     ``is_query``            ``is_gallery``
    ============  ======================  ==================================
    ``train``     False                   False
    ``query``     True                    False
    ``gallery``   False                   True (query tracklets included
                                          when ``gallery_includes_query``)
    ``test``      True for query          ``gallery_includes_query`` for
                  tracklets, else False   query tracklets, else True
    ============  ======================  ==================================

    Args:
        data_root (str): Root folder of the dataset.
        split (str): One of ``'train'``, ``'query'``, ``'gallery'`` and
            ``'test'`` (query ∪ gallery, used by the val/test dataloaders).
            Defaults to ``'train'``.
        pipeline (Sequence[dict | Callable]): Data transforms. Defaults to
            ``()``.
        gallery_includes_query (bool, optional): Whether the query
            tracklets are also gallery tracklets. None (the default) takes
            the standard protocol of the dataset class,
            :attr:`GALLERY_INCLUDES_QUERY` (True for MARS, False for the
            others), so switching the dataset ``type`` switches the
            protocol too. A value that differs from it is used, with a
            warning that the results follow a non-standard protocol.
        test_mode (bool, optional): Whether the dataset is used for testing.
            Defaults to None, i.e. ``split != 'train'``.
        metainfo (dict, optional): Extra meta information, merged into
            ``metainfo``. Defaults to None.
        indices (int | Sequence[int], optional): Use only these items (or the
            first ``indices`` items). Defaults to None (all items).
        lazy_init (bool): Whether to defer loading the annotation until it is
            needed. Defaults to False.
        serialize_data (bool): Whether to keep the data list as one
            serialized numpy buffer (saves memory in dataloader workers).
            Defaults to True.
        max_refetch (int): The maximum number of attempts to fetch another
            item when the pipeline returns None in training mode. Defaults to
            1000.
    """

    METAINFO: dict = dict()

    #: The identity of junk tracklets, dropped from every split.
    JUNK_PID: int = -1
    #: The identity of distractor tracklets, kept in the gallery.
    DISTRACTOR_PID: int = 0
    #: A human-readable description of the expected folder layout, quoted by
    #: the errors raised when a required file is missing.
    EXPECTED_LAYOUT: str = ''
    #: The dataset's standard protocol: whether its query tracklets are also
    #: gallery tracklets (used when ``gallery_includes_query`` is None).
    GALLERY_INCLUDES_QUERY: bool = False

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 gallery_includes_query: Optional[bool] = None,
                 test_mode: Optional[bool] = None,
                 metainfo: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 lazy_init: bool = False,
                 serialize_data: bool = True,
                 max_refetch: int = 1000) -> None:
        if split not in SPLITS:
            raise ValueError(
                f'split must be one of {SPLITS}, but got "{split}".')
        if data_root is None or data_root == '':
            raise ValueError(f'{type(self).__name__} needs a `data_root`.')
        self.split = split
        self.gallery_includes_query = self._resolve_gallery_includes_query(
            gallery_includes_query)
        if test_mode is None:
            test_mode = split != 'train'
        super().__init__(
            ann_file='',
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(),
            filter_cfg=None,
            indices=indices,
            serialize_data=serialize_data,
            pipeline=list(pipeline),
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch)

    # ------------------------------------------------------------------ API
    @abstractmethod
    def load_tracklets(self, split: str) -> List[dict]:
        """Load the raw tracklets of one split.

        Args:
            split (str): ``'train'``, ``'query'`` or ``'gallery'``. The
                gallery is the dataset's own gallery list, **without** the
                query tracklets (the base class appends them when
                ``gallery_includes_query``).

        Returns:
            list[dict]: One dict per tracklet with ``img_paths`` (list[str],
            frames in temporal order), ``pid`` (int, raw identity, ``-1``
            for junk, ``0`` for distractors) and ``camid`` (int, 0-based).
            An optional ``tracklet_id`` (int) gives a stable index of the
            tracklet; other keys are passed through.
        """
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        """Build the data list of ``self.split`` from :meth:`load_tracklets`.

        Returns:
            list[dict]: The tracklets of the split (see the class docstring
            for the keys).
        """
        self._check_data_root()
        self._tracklet_cache: Dict[str, List[dict]] = {}
        if self.split == 'train':
            data_list = self._prepare(
                'train', is_query=False, is_gallery=False)
            self._relabel(data_list)
            self._subsets = [('train', data_list)]
        else:
            query = []
            gallery = []
            if self.split in ('query', 'test'):
                query = self._prepare(
                    'query',
                    is_query=True,
                    is_gallery=(self.split == 'test'
                                and self.gallery_includes_query))
            if self.split in ('gallery', 'test'):
                gallery = self._prepare(
                    'gallery', is_query=False, is_gallery=True)
            if self.split == 'gallery' and self.gallery_includes_query:
                extra = self._prepare('query', is_query=False, is_gallery=True)
                gallery = gallery + extra
            if self.split == 'query':
                data_list = query
                self._subsets = [('query', query)]
            elif self.split == 'gallery':
                data_list = gallery
                self._subsets = [('gallery', gallery)]
            else:
                data_list = query + gallery
                shown_gallery = gallery
                if self.gallery_includes_query:
                    shown_gallery = gallery + query
                self._subsets = [('query', query), ('gallery', shown_gallery)]
        self._update_metainfo(data_list)
        self._log_summary()
        # free the raw annotation and the per-subset views
        del self._tracklet_cache, self._subsets
        return data_list

    # -------------------------------------------------------------- helpers
    def _resolve_gallery_includes_query(self, value: Optional[bool]) -> bool:
        """Apply the dataset's default protocol; warn about a deviation."""
        default = bool(self.GALLERY_INCLUDES_QUERY)
        if value is None:
            return default
        if not isinstance(value, (bool, np.bool_)):
            # bool('False') is True: a string would silently flip it
            raise TypeError(
                f'{type(self).__name__}: gallery_includes_query must be '
                f'True, False or None (the dataset\'s protocol, '
                f'{default}), got {value!r} ({type(value).__name__}).')
        value = bool(value)
        if value != default and self.split != 'train':
            self.log_warning(
                f'gallery_includes_query={value} differs from the standard '
                f'{type(self).__name__} protocol ({default}): the results '
                'are not comparable with published ones. Remove the key (or '
                'set it to None) to use the standard protocol.')
        return value

    def _check_data_root(self) -> None:
        """Raise a clear error if ``data_root`` is not a folder."""
        if osp.isfile(self.data_root):
            raise NotADirectoryError(
                f'The data root of {type(self).__name__} "{self.data_root}" '
                'is a file, not a directory. Set `data_root` (the config '
                'variable, or train/val/test_dataloader.dataset.data_root) '
                'to the folder that holds the dataset (extract an archive '
                f'first).{self._layout_hint()}')
        if not osp.isdir(self.data_root):
            raise FileNotFoundError(
                f'The data root of {type(self).__name__} "{self.data_root}" '
                f'does not exist.{self._layout_hint()}')

    def _layout_hint(self) -> str:
        """Return the expected layout, formatted for an error message."""
        if not self.EXPECTED_LAYOUT:
            return ''
        return ' Expected layout:\n' + self.EXPECTED_LAYOUT

    def check_file_exists(self, path: str, kind: Optional[str] = None) -> str:
        """Raise an error naming ``path`` if it is missing or of wrong kind.

        Args:
            path (str): A file or folder the dataset requires.
            kind (str, optional): ``'file'`` or ``'dir'`` to also require
                that kind of entry. Defaults to None (either).

        Returns:
            str: ``path`` itself.

        Raises:
            FileNotFoundError: If ``path`` does not exist.
            NotADirectoryError: If ``kind='dir'`` and ``path`` is a file.
            IsADirectoryError: If ``kind='file'`` and ``path`` is a folder.
        """
        if not osp.exists(path):
            raise FileNotFoundError(
                f'{type(self).__name__} requires "{path}", which does not '
                f'exist (data_root="{self.data_root}").'
                f'{self._layout_hint()}')
        if kind == 'dir' and not osp.isdir(path):
            raise NotADirectoryError(
                f'{type(self).__name__} requires the folder "{path}", which '
                f'is a file, not a directory (data_root="{self.data_root}"; '
                f'extract an archive first).{self._layout_hint()}')
        if kind == 'file' and osp.isdir(path):
            raise IsADirectoryError(
                f'{type(self).__name__} requires the file "{path}", which is '
                f'a directory, not a file (data_root="{self.data_root}").'
                f'{self._layout_hint()}')
        return path

    def read_text_lines(self, path: str) -> List[str]:
        """Read a UTF-8 (or ASCII) text file as a list of lines.

        Unlike ``open(path)``, a byte that is not UTF-8 is reported with the
        file, the line and the byte offset instead of a bare
        ``UnicodeDecodeError``.

        Args:
            path (str): A name list or another text annotation file.

        Returns:
            list[str]: The lines, without line endings (a UTF-8 byte order
            mark at the start is dropped).

        Raises:
            ValueError: If a line is not valid UTF-8.
        """
        with open(path, 'rb') as f:
            data = f.read()
        if data.startswith(b'\xef\xbb\xbf'):
            data = data[3:]
        lines = []
        offset = 0
        for lineno, raw in enumerate(data.splitlines(keepends=True), 1):
            try:
                line = raw.decode('utf-8')
            except UnicodeDecodeError as e:
                raise ValueError(
                    f'{path}, line {lineno}: the byte 0x{raw[e.start]:02x} '
                    f'at byte offset {offset + e.start} of the file (column '
                    f'{e.start + 1} of the line) is not UTF-8 ({e.reason}). '
                    f'{type(self).__name__} annotation files are plain '
                    'ASCII: the file is damaged (re-extract or re-download '
                    'it) or was saved in another encoding (convert it to '
                    'UTF-8, e.g. with `iconv -f latin1 -t utf-8`).') from None
            lines.append(line.rstrip('\r\n'))
            offset += len(raw)
        return lines

    def log_warning(self, message: str) -> None:
        """Log a warning of this dataset to the current ``MMLogger``.

        Args:
            message (str): The warning; the class name is prepended.
        """
        print_log(
            f'{type(self).__name__}: {message}',
            logger='current',
            level=logging.WARNING)

    def _prepare(self, source: str, is_query: bool,
                 is_gallery: bool) -> List[dict]:
        """Load one source split, drop junk and add the common keys."""
        out = []
        for idx, raw in enumerate(self._cached_tracklets(source)):
            pid = int(raw['pid'])
            if pid == self.JUNK_PID:
                continue
            info = dict(raw)
            info['img_paths'] = list(raw['img_paths'])
            info['pid'] = pid
            info['raw_pid'] = pid
            info['camid'] = int(raw['camid'])
            info['is_query'] = bool(is_query)
            info['is_gallery'] = bool(is_gallery)
            info['num_frames'] = len(info['img_paths'])
            info['tracklet_id'] = int(raw.get('tracklet_id', idx))
            info['subset'] = source
            out.append(info)
        return out

    def _cached_tracklets(self, source: str) -> List[dict]:
        """Call :meth:`load_tracklets` at most once per source split."""
        if source not in self._tracklet_cache:
            self._tracklet_cache[source] = self.load_tracklets(source)
        return self._tracklet_cache[source]

    @staticmethod
    def _relabel(data_list: List[dict]) -> None:
        """Relabel the identities of a training list to ``0 .. N-1``."""
        raw_pids = sorted({info['raw_pid'] for info in data_list})
        pid2label = {pid: label for label, pid in enumerate(raw_pids)}
        for info in data_list:
            info['pid'] = pid2label[info['raw_pid']]

    def _update_metainfo(self, data_list: List[dict]) -> None:
        """Store the statistics of the split in ``self._metainfo``."""
        camids = [info['camid'] for info in data_list]
        stats = dict(
            dataset_name=type(self).__name__,
            split=self.split,
            num_pids=len({info['pid']
                          for info in data_list}),
            num_tracklets=len(data_list),
            num_cams=(max(camids) + 1) if camids else 0,
            num_frames=int(sum(info['num_frames'] for info in data_list)))
        if self.split != 'train':
            stats['gallery_includes_query'] = self.gallery_includes_query
        for name, subset in self._subsets:
            if self.split == 'test':
                stats[f'num_{name}_pids'] = len(
                    {info['pid']
                     for info in subset})
                stats[f'num_{name}_tracklets'] = len(subset)
        # METAINFO and a user-given ``metainfo`` win over the statistics
        for key, value in stats.items():
            self._metainfo.setdefault(key, value)

    def _log_summary(self) -> None:
        """Log a torchreid-style summary table of the loaded split."""
        rows = []
        for name, subset in self._subsets:
            lengths = np.array([info['num_frames'] for info in subset],
                               dtype=np.int64)
            rows.append((
                name,
                len({info['pid']
                     for info in subset}),
                len(subset),
                len({info['camid']
                     for info in subset}),
                int(lengths.sum()) if len(lengths) else 0,
                int(lengths.min()) if len(lengths) else 0,
                float(lengths.mean()) if len(lengths) else 0.0,
                int(lengths.max()) if len(lengths) else 0,
            ))
        header = (f'  {"subset":<8}| {"# ids":>6} | {"# tracklets":>11} | '
                  f'{"# cameras":>9} | {"# frames":>9} | '
                  f'{"min/avg/max length":>18}')
        line = '  ' + '-' * (len(header) - 2)
        lines = [
            f'=> {type(self).__name__} loaded (split="{self.split}", '
            f'data_root="{self.data_root}")', line, header, line
        ]
        for name, n_ids, n_trk, n_cam, n_frm, mn, avg, mx in rows:
            length = f'{mn}/{avg:.1f}/{mx}'
            lines.append(f'  {name:<8}| {n_ids:>6} | {n_trk:>11} | '
                         f'{n_cam:>9} | {n_frm:>9} | {length:>18}')
        lines.append(line)
        if self.split in ('gallery', 'test'):
            lines.append('  gallery includes the query tracklets: '
                         f'{self.gallery_includes_query}')
        lines.extend(self._extra_summary_lines())
        logger = MMLogger.get_current_instance()
        logger.info('\n'.join(lines))

    def _extra_summary_lines(self) -> List[str]:
        """Extra lines appended to the summary table (e.g. the split used).

        Returns:
            list[str]: The lines; none by default.
        """
        return []

    # ----------------------------------------------------------- accessors
    def get_pids(self) -> np.ndarray:
        """Return the ``pid`` of every item.

        Returns:
            np.ndarray: ``int64`` array of shape ``(len(self), )``.
        """
        return np.array(
            [self.get_data_info(i)['pid'] for i in range(len(self))],
            dtype=np.int64)

    def get_camids(self) -> np.ndarray:
        """Return the 0-based ``camid`` of every item.

        Returns:
            np.ndarray: ``int64`` array of shape ``(len(self), )``.
        """
        return np.array(
            [self.get_data_info(i)['camid'] for i in range(len(self))],
            dtype=np.int64)

    def get_cat_ids(self, idx: int) -> List[int]:
        """Return the identity of one item (MMEngine's class-aware API).

        Args:
            idx (int): The index of the item.

        Returns:
            list[int]: ``[pid]``.
        """
        return [int(self.get_data_info(idx)['pid'])]

    def extra_repr(self) -> List[str]:
        """Return the extra lines of ``repr(self)``.

        Returns:
            list[str]: Split and protocol information.
        """
        return [
            f'Split: \t{self.split}',
            f'Gallery includes query: \t{self.gallery_includes_query}'
        ]

    def __repr__(self) -> str:
        """Print the number of tracklets and the split of the dataset.

        Returns:
            str: The representation.
        """
        head = 'Dataset ' + type(self).__name__
        body = []
        if self._fully_initialized:
            body.append(f'Number of tracklets: \t{self.__len__()}')
            body.append(f'Number of ids: \t{self._metainfo["num_pids"]}')
        else:
            body.append("Haven't been initialized")
        body.append(f'Root of dataset: \t{self.data_root}')
        body.extend(self.extra_repr())
        return '\n'.join([head] + [' ' * 4 + line for line in body])

"""DukeMTMC-VideoReID video person Re-ID dataset."""
import logging
import os
import os.path as osp
import re
from typing import Callable, List, Optional, Sequence, Union

from mmengine.logging import print_log

from mmdcct.registry import DATASETS
from .base_video_reid_dataset import BaseVideoReIDDataset

__all__ = ['DukeMTMCVideoReID', 'parse_duke_video_name']

#: ``0001_C6_F0017_X30823.jpg`` (and the old ``0001C6F0017X30823.jpg``):
#: identity, 1-based camera, frame number and an optional extra number.
DUKE_NAME_PATTERN = re.compile(r'^(?P<pid>\d+)_?C(?P<cam>\d+)_?F(?P<frame>\d+)'
                               r'(?:_?X(?P<extra>\d+))?')

#: The folder of the dataset inside ``data_root``.
DUKE_DIR = 'DukeMTMC-VideoReID'


def parse_duke_video_name(name: str) -> dict:
    """Parse a DukeMTMC-VideoReID frame file name.

    Args:
        name (str): A file name (or path) such as
            ``'0001_C6_F0017_X30823.jpg'``; the old convention without
            underscores (``'0001C6F0017X30823.jpg'``) is accepted too.

    Returns:
        dict: ``pid`` (int), ``cam`` (int, **1-based** as in the name) and
        ``frame`` (int).

    Raises:
        ValueError: If the name does not follow the convention.
    """
    match = DUKE_NAME_PATTERN.match(osp.basename(name))
    if match is None:
        raise ValueError(f'"{name}" is not a DukeMTMC-VideoReID frame name '
                         'such as "0001_C6_F0017_X30823.jpg".')
    return dict(
        pid=int(match.group('pid')),
        cam=int(match.group('cam')),
        frame=int(match.group('frame')))


@DATASETS.register_module()
class DukeMTMCVideoReID(BaseVideoReIDDataset):
    """DukeMTMC-VideoReID video person Re-ID dataset.

    Wu et al. *Exploit the Unknown Gradually: One-Shot Video-Based Person
    Re-Identification by Stepwise Learning*, CVPR 2018. 702 training
    identities (2,196 tracklets), 702 query identities (702 tracklets, one
    per identity) and a gallery of 2,636 tracklets of 1,110 identities (the
    702 query identities plus 408 distractor identities seen only by the
    gallery); 8 cameras.

    The dataset was withdrawn by its creators in 2019 and some venues refuse
    results on it; building this class logs a notice once per process.

    Protocol (as torchreid and the literature run it): the splits are the
    folders ``train``, ``query`` and ``gallery``; the query tracklets are
    **not** appended to the gallery (``gallery_includes_query=False``, every
    query has a cross-camera match in the gallery); the evaluation removes,
    per query, the gallery entries with the same identity and camera. The
    distractor identities are ordinary identities that only the gallery
    holds (no special id).

    Expected layout of ``data_root``::

        data_root/
        └── DukeMTMC-VideoReID/
            ├── train/<pid>/<tracklet>/<pid>_C<cam>_F<frame>_X<n>.jpg
            ├── query/<pid>/<tracklet>/...
            └── gallery/<pid>/<tracklet>/...

    ``<pid>`` folders are numbers (``0001``); the camera (``C1`` .. ``C8``)
    is read from the file names and the frames of a tracklet are ordered by
    their ``F`` number (not by the directory listing; some tracklets start
    at ``F0002`` or skip numbers, and all their frames are kept). A tracklet
    folder without ``.jpg`` files is skipped with a warning.

    ``tracklet_id`` is the position of the tracklet in the sorted listing
    (``<pid>``, then ``<tracklet>`` folder) of ``train``, respectively of
    ``query`` followed by ``gallery`` (so it is unique in the ``'test'``
    split).

    Args:
        data_root (str): The folder holding ``DukeMTMC-VideoReID/``.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``
            (query ∪ gallery). Defaults to ``'train'``.
        pipeline (Sequence[dict | Callable]): Data transforms. Defaults to
            ``()``.
        gallery_includes_query (bool, optional): Whether the query
            tracklets are also gallery tracklets. Defaults to None:
            the class's ``GALLERY_INCLUDES_QUERY`` (False, the Duke protocol).
        **kwargs: Other arguments of :class:`BaseVideoReIDDataset`.

    Examples:
        >>> from mmdcct.registry import DATASETS
        >>> test_set = DATASETS.build(dict(
        ...     type='DukeMTMCVideoReID', data_root='data/dukemtmc-vidreid',
        ...     split='test'))
    """

    METAINFO = dict(dataset_name='DukeMTMC-VideoReID')

    #: Number of cameras; the file names must have ``C1`` .. ``C8``.
    NUM_CAMS: int = 8

    #: Logged once per process when the class is first built.
    WITHDRAWN_NOTICE = (
        'DukeMTMC-VideoReID was withdrawn by its creators (2019); some '
        'venues refuse results on it.')
    _notice_logged: bool = False

    EXPECTED_LAYOUT = (
        '  data_root/\n'
        '  └── DukeMTMC-VideoReID/\n'
        '      ├── train/<pid>/<tracklet>/<pid>_C<cam>_F<frame>_X<n>.jpg\n'
        '      ├── query/<pid>/<tracklet>/<pid>_C<cam>_F<frame>_X<n>.jpg\n'
        '      └── gallery/<pid>/<tracklet>/<pid>_C<cam>_F<frame>_X<n>.jpg')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 gallery_includes_query: Optional[bool] = None,
                 test_mode: Optional[bool] = None,
                 **kwargs) -> None:
        if not DukeMTMCVideoReID._notice_logged:
            DukeMTMCVideoReID._notice_logged = True
            print_log(
                f'{type(self).__name__}: {self.WITHDRAWN_NOTICE}',
                logger='current',
                level=logging.WARNING)
        super().__init__(
            data_root=data_root,
            split=split,
            pipeline=pipeline,
            gallery_includes_query=gallery_includes_query,
            test_mode=test_mode,
            **kwargs)

    def _split_dir(self, split: str) -> str:
        """Return the existing folder of ``split`` (error if missing)."""
        self.check_file_exists(osp.join(self.data_root, DUKE_DIR), kind='dir')
        return self.check_file_exists(
            osp.join(self.data_root, DUKE_DIR, split), kind='dir')

    def _tracklet_dirs(self, split: str) -> List[tuple]:
        """List ``(pid, tracklet folder)`` of a split in sorted order."""
        split_dir = self._split_dir(split)
        out = []
        for pid_name in sorted(os.listdir(split_dir)):
            pid_dir = osp.join(split_dir, pid_name)
            if pid_name.startswith('.') or not osp.isdir(pid_dir):
                continue
            if not pid_name.isdigit():
                raise ValueError(
                    f'"{pid_dir}" is not an identity folder: '
                    f'{type(self).__name__} expects numeric identity folders '
                    f'in {split_dir}.{self._layout_hint()}')
            for tracklet in sorted(os.listdir(pid_dir)):
                tracklet_dir = osp.join(pid_dir, tracklet)
                if tracklet.startswith('.') or not osp.isdir(tracklet_dir):
                    continue
                out.append((int(pid_name), tracklet_dir))
        return out

    def load_tracklets(self, split: str) -> List[dict]:
        """Load the tracklets of ``'train'``, ``'query'`` or ``'gallery'``.

        Args:
            split (str): The folder to read.

        Returns:
            list[dict]: Tracklets with ``img_paths`` (sorted by the ``F``
            number), ``pid`` (the folder's identity), ``camid`` (0-based)
            and ``tracklet_id``.

        Raises:
            FileNotFoundError: If the split folder is missing.
            ValueError: If a file name is malformed, names another identity
                than its folder, has a camera outside ``C1..C8`` or a
                tracklet mixes cameras.
        """
        offset = 0
        if split == 'gallery':
            offset = len(self._tracklet_dirs('query'))
        tracklets = []
        for idx, (pid, tracklet_dir) in enumerate(self._tracklet_dirs(split)):
            names = [
                n for n in os.listdir(tracklet_dir)
                if n.lower().endswith('.jpg') and not n.startswith('.')
            ]
            if not names:
                self.log_warning(f'skipping the empty tracklet folder '
                                 f'"{tracklet_dir}" (no .jpg frame).')
                continue
            frames = []
            cams = set()
            for name in names:
                path = osp.join(tracklet_dir, name)
                try:
                    parsed = parse_duke_video_name(name)
                except ValueError as e:
                    raise ValueError(f'{path}: {e}') from None
                if parsed['pid'] != pid:
                    raise ValueError(
                        f'"{path}" names identity {parsed["pid"]}, but lies '
                        f'in the folder of identity {pid}.')
                if not 1 <= parsed['cam'] <= self.NUM_CAMS:
                    raise ValueError(
                        f'"{path}" has the unknown camera C{parsed["cam"]}; '
                        f'DukeMTMC-VideoReID has cameras C1..C{self.NUM_CAMS}.'
                    )
                cams.add(parsed['cam'])
                if len(cams) > 1:
                    raise ValueError(
                        f'The tracklet "{tracklet_dir}" mixes cameras '
                        f'{sorted(cams)} (e.g. "{path}").')
                frames.append((parsed['frame'], name, path))
            frames.sort()
            tracklets.append(
                dict(
                    img_paths=[path for _, _, path in frames],
                    pid=pid,
                    camid=cams.pop() - 1,
                    tracklet_id=offset + idx))
        return tracklets

"""iLIDS-VID video person Re-ID dataset."""
import os.path as osp
import re
from typing import Dict, List

import numpy as np
from scipy.io import loadmat

from mmdcct.registry import DATASETS
from .two_camera_video_reid_dataset import TwoCameraVideoReIDDataset

__all__ = ['iLIDSVID', 'generate_ilidsvid_ls_set', 'ilidsvid_splits']

ILIDS_PERSON_PATTERN = re.compile(r'^person(\d+)$')


def generate_ilidsvid_ls_set(num_persons: int,
                             num_splits: int = 10,
                             seed: int = 0) -> np.ndarray:
    """Draw random iLIDS-VID splits in the format of ``ls_set``.

    Row ``i`` is ``np.random.default_rng(seed)``'s ``i``-th permutation of
    ``1 .. num_persons`` (1-based indices into the sorted person list), so
    the result depends only on the arguments.

    Args:
        num_persons (int): Number of persons ``N``.
        num_splits (int): Number of splits. Defaults to 10.
        seed (int): Random seed. Defaults to 0.

    Returns:
        np.ndarray: ``int64`` array of shape ``(num_splits, N)``.
    """
    rng = np.random.default_rng(seed)
    return np.stack([
        rng.permutation(num_persons).astype(np.int64) + 1
        for _ in range(num_splits)
    ]).reshape(num_splits, num_persons)


def ilidsvid_splits(ls_set: np.ndarray,
                    persons: List[str],
                    source: str = 'ls_set') -> List[Dict[str, List[str]]]:
    """Turn an ``ls_set`` matrix into person-folder splits.

    As in the official protocol (Wang et al., ECCV 2014) and torchreid, the
    **first half** of each row are the test persons and the **second half**
    the train persons; the entries are 1-based indices into ``persons``.

    Args:
        ls_set (np.ndarray): ``(num_splits, N)`` matrix.
        persons (list[str]): The ``N`` sorted person folder names.
        source (str): Where ``ls_set`` comes from, for the error messages.

    Returns:
        list[dict]: ``dict(train=[...], test=[...])`` per row, each list
        sorted.

    Raises:
        ValueError: If the matrix does not fit ``persons``.
    """
    ls_set = np.asarray(ls_set)
    num = len(persons)
    if ls_set.ndim != 2 or ls_set.shape[1] != num or ls_set.shape[0] < 1:
        raise ValueError(
            f'{source}: "ls_set" must be a (num_splits, {num}) matrix (one '
            f'row of 1-based person indices per split, {num} persons found '
            f'in the camera folders), got shape {ls_set.shape}.')
    splits = []
    for i, row in enumerate(ls_set.astype(np.int64)):
        if row.min() < 1 or row.max() > num or len(np.unique(row)) != num:
            raise ValueError(
                f'{source}: row {i + 1} of "ls_set" must be a permutation of '
                f'1..{num}.')
        half = num // 2
        splits.append(
            dict(
                test=sorted(persons[j - 1] for j in row[:half]),
                train=sorted(persons[j - 1] for j in row[half:])))
    return splits


@DATASETS.register_module()
class iLIDSVID(TwoCameraVideoReIDDataset):  # noqa: N801
    """iLIDS-VID video person Re-ID dataset.

    Wang et al. *Person Re-Identification by Video Ranking*, ECCV 2014. 300
    persons, each with one tracklet in each of two cameras (23 to 192
    frames). The protocol draws 10 random splits of the persons into 150
    train and 150 test persons; the queries are the test persons' ``cam1``
    tracklets and the gallery their ``cam2`` tracklets; the result is the
    mean over the 10 splits (see ``tools/analysis_tools/eval_splits.py``).

    Expected layout of ``data_root``::

        data_root/
        ├── i-LIDS-VID/sequences/
        │   ├── cam1/personNNN/cam1_personNNN_<frame>.png
        │   └── cam2/personNNN/cam2_personNNN_<frame>.png
        └── train-test people splits/
            └── train_test_splits_ilidsvid.mat   # key 'ls_set', 10 x 300

    Each row of ``ls_set`` holds 1-based indices into the sorted list of
    person folders; the first half of a row is the test set and the second
    half the train set (as torchreid reads it). Frames are sorted by their
    frame number. When the ``.mat`` file is missing, 10 random splits are
    generated from ``split_seed`` (:func:`generate_ilidsvid_ls_set`), kept
    in memory and announced by a warning (see
    :class:`TwoCameraVideoReIDDataset`).

    Args:
        data_root (str): The folder holding ``i-LIDS-VID/`` and
            ``train-test people splits/``.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``.
            Defaults to ``'train'``.
        split_id (int): The split, 0..9. Defaults to 0.
        **kwargs: Other arguments of :class:`TwoCameraVideoReIDDataset`
            (``split_file``, ``split_seed``, ``num_splits``, ``pipeline``,
            ...).

    Examples:
        >>> from mmdcct.registry import DATASETS
        >>> query_and_gallery = DATASETS.build(dict(
        ...     type='iLIDSVID', data_root='data/ilids-vid', split='test',
        ...     split_id=3))
    """

    METAINFO = dict(dataset_name='iLIDS-VID')
    CAMERAS = ('cam1', 'cam2')
    FRAME_EXT = '.png'

    EXPECTED_LAYOUT = (
        '  data_root/\n'
        '  ├── i-LIDS-VID/sequences/\n'
        '  │   ├── cam1/personNNN/cam1_personNNN_<frame>.png\n'
        '  │   └── cam2/personNNN/cam2_personNNN_<frame>.png\n'
        '  └── train-test people splits/\n'
        '      └── train_test_splits_ilidsvid.mat  (key "ls_set", 10 x 300;'
        ' generated from split_seed if missing)')

    @property
    def camera_root(self) -> str:
        """``data_root/i-LIDS-VID/sequences``."""
        return osp.join(self.data_root, 'i-LIDS-VID', 'sequences')

    @property
    def default_split_file(self) -> str:
        """``data_root/train-test people splits/
        train_test_splits_ilidsvid.mat``."""
        return osp.join(self.data_root, 'train-test people splits',
                        'train_test_splits_ilidsvid.mat')

    @property
    def generation_rule(self) -> str:
        """How missing splits are generated."""
        return ('each split a random permutation of the sorted persons, the '
                'first half test and the second half train')

    def person_id(self, person: str) -> int:
        """``personNNN`` -> ``NNN``."""
        match = ILIDS_PERSON_PATTERN.match(person)
        if match is None:
            raise ValueError(f'"{person}" is not an iLIDS-VID person folder '
                             'name such as "person001".')
        return int(match.group(1))

    def _check_same_persons(self) -> List[str]:
        """Both cameras must hold the same persons (as in the release)."""
        cam1, cam2 = self.list_persons(0), self.list_persons(1)
        if set(cam1) != set(cam2):
            only1 = sorted(set(cam1) - set(cam2))
            only2 = sorted(set(cam2) - set(cam1))
            raise ValueError(
                f'The two cameras of {type(self).__name__} must hold the same '
                f'persons: only in "{self.camera_dir(0)}": {only1[:10]}; '
                f'only in "{self.camera_dir(1)}": {only2[:10]}.')
        return cam1

    def read_split_file(self, path: str,
                        persons: List[str]) -> List[Dict[str, List[str]]]:
        """Read ``ls_set`` from the ``.mat`` split file."""
        persons = self._check_same_persons()
        try:
            mat = loadmat(path)
        except Exception as e:  # scipy raises several types
            raise ValueError(f'Cannot read the split file "{path}": '
                             f'{e}') from e
        if 'ls_set' not in mat:
            keys = [k for k in mat if not k.startswith('__')]
            raise ValueError(
                f'The split file "{path}" has no key "ls_set" (found '
                f'{keys}).{self._layout_hint()}')
        return ilidsvid_splits(mat['ls_set'], persons, source=path)

    def generate_splits(self,
                        persons: List[str]) -> List[Dict[str, List[str]]]:
        """Generate ``num_splits`` splits from ``split_seed``."""
        persons = self._check_same_persons()
        ls_set = generate_ilidsvid_ls_set(
            len(persons), self.num_splits, seed=self.split_seed)
        return ilidsvid_splits(ls_set, persons, source='generated splits')

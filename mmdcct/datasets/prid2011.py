"""PRID-2011 (multi-shot) video person Re-ID dataset."""
import json
import os.path as osp
import re
from typing import Dict, List, Sequence

import numpy as np

from mmdcct.registry import DATASETS
from .two_camera_video_reid_dataset import TwoCameraVideoReIDDataset

__all__ = ['PRID2011', 'generate_prid2011_splits', 'prid2011_person_name']

PRID_PERSON_PATTERN = re.compile(r'^person_(\d+)$')


def prid2011_person_name(person) -> str:
    """Normalise a PRID-2011 person given by name or number.

    Args:
        person (str | int): ``'person_0012'``, ``'12'`` or ``12``.

    Returns:
        str: The folder name, e.g. ``'person_0012'``.

    Raises:
        ValueError: If ``person`` is neither.
    """
    if isinstance(person, (int, np.integer)) and not isinstance(person, bool):
        return f'person_{int(person):04d}'
    if isinstance(person, str):
        if person.isdigit():
            return f'person_{int(person):04d}'
        if PRID_PERSON_PATTERN.match(person):
            return person
    raise ValueError(f'{person!r} is not a PRID-2011 person (a folder name '
                     'such as "person_0001" or a person number).')


def generate_prid2011_splits(eligible: Sequence[str],
                             num_splits: int = 10,
                             seed: int = 0) -> List[Dict[str, List[str]]]:
    """Draw random PRID-2011 splits of the eligible persons.

    Split ``i`` permutes the sorted ``eligible`` persons with the ``i``-th
    permutation of ``np.random.default_rng(seed)``; the first
    ``len(eligible) // 2`` are the test persons and the rest the train
    persons (178 persons give the standard 89 / 89).

    Args:
        eligible (Sequence[str]): The person folder names to split.
        num_splits (int): Number of splits. Defaults to 10.
        seed (int): Random seed. Defaults to 0.

    Returns:
        list[dict]: ``dict(train=[...], test=[...])`` per split, each list
        sorted.
    """
    eligible = sorted(eligible)
    rng = np.random.default_rng(seed)
    half = len(eligible) // 2
    splits = []
    for _ in range(num_splits):
        perm = rng.permutation(len(eligible))
        splits.append(
            dict(
                train=sorted(eligible[j] for j in perm[half:]),
                test=sorted(eligible[j] for j in perm[:half])))
    return splits


@DATASETS.register_module()
class PRID2011(TwoCameraVideoReIDDataset):
    """PRID-2011 (multi-shot) video person Re-ID dataset.

    Hirzer et al. *Person Re-Identification by Descriptive and
    Discriminative Classification*, SCIA 2011. Camera A sees 385 and camera
    B 749 persons; the first 200 persons are seen by both. The standard
    protocol keeps the 178 of these 200 persons whose sequences are long
    enough in both cameras and draws 10 random splits of 89 train and 89 test
    persons; the queries are the test persons' ``cam_a`` tracklets and the
    gallery their ``cam_b`` tracklets; the result is the mean over the 10
    splits (see ``tools/analysis_tools/eval_splits.py``).

    Expected layout of ``data_root``::

        data_root/
        ├── prid_2011/multi_shot/
        │   ├── cam_a/person_NNNN/<frame>.png
        │   └── cam_b/person_NNNN/<frame>.png
        └── splits_prid2011.json

    ``splits_prid2011.json`` is torchreid's split file: a list of
    ``{"train": [...], "test": [...]}`` whose entries are person folder
    names (``"person_0001"``) or person numbers. When it is missing, splits
    are generated from ``split_seed`` (:func:`generate_prid2011_splits`) over
    the persons numbered ``<= split_num_persons`` that have at least
    ``split_min_frames`` frames in both cameras, kept in memory and announced
    by a warning (see :class:`TwoCameraVideoReIDDataset`).

    Args:
        data_root (str): The folder holding ``prid_2011/`` and
            ``splits_prid2011.json``.
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``.
            Defaults to ``'train'``.
        split_id (int): The split, 0..9. Defaults to 0.
        split_num_persons (int): Generated splits only use the persons
            ``person_0001 .. person_<split_num_persons>``. Defaults to 200.
        split_min_frames (int): Generated splits only use persons with at
            least this many frames in each camera. Defaults to 21 (the
            literature's threshold, which leaves 178 persons).
        **kwargs: Other arguments of :class:`TwoCameraVideoReIDDataset`
            (``split_file``, ``split_seed``, ``num_splits``, ``pipeline``,
            ...).

    Examples:
        >>> from mmdcct.registry import DATASETS
        >>> train_set = DATASETS.build(dict(
        ...     type='PRID2011', data_root='data/prid2011', split_id=0))
    """

    METAINFO = dict(dataset_name='PRID-2011')
    CAMERAS = ('cam_a', 'cam_b')
    FRAME_EXT = '.png'

    EXPECTED_LAYOUT = (
        '  data_root/\n'
        '  ├── prid_2011/multi_shot/\n'
        '  │   ├── cam_a/person_NNNN/<frame>.png\n'
        '  │   └── cam_b/person_NNNN/<frame>.png\n'
        '  └── splits_prid2011.json  (list of {"train": [...], "test": '
        '[...]}; generated from split_seed if missing)')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 split_id: int = 0,
                 split_num_persons: int = 200,
                 split_min_frames: int = 21,
                 **kwargs) -> None:
        self.split_num_persons = int(split_num_persons)
        self.split_min_frames = int(split_min_frames)
        super().__init__(
            data_root=data_root, split=split, split_id=split_id, **kwargs)

    @property
    def camera_root(self) -> str:
        """``data_root/prid_2011/multi_shot``."""
        return osp.join(self.data_root, 'prid_2011', 'multi_shot')

    @property
    def default_split_file(self) -> str:
        """``data_root/splits_prid2011.json``."""
        return osp.join(self.data_root, 'splits_prid2011.json')

    @property
    def generation_rule(self) -> str:
        """How missing splits are generated."""
        return (f'persons person_0001..person_{self.split_num_persons:04d} '
                f'with >= {self.split_min_frames} frames in both cameras, '
                'half test and half train')

    def person_id(self, person: str) -> int:
        """``person_NNNN`` -> ``NNNN``."""
        match = PRID_PERSON_PATTERN.match(person)
        if match is None:
            raise ValueError(f'"{person}" is not a PRID-2011 person folder '
                             'name such as "person_0001".')
        return int(match.group(1))

    def read_split_file(self, path: str,
                        persons: List[str]) -> List[Dict[str, List[str]]]:
        """Read torchreid's ``splits_prid2011.json``."""
        try:
            with open(path) as f:
                raw = json.load(f)
        except Exception as e:
            raise ValueError(f'Cannot read the split file "{path}": '
                             f'{e}') from e
        if not isinstance(raw, list) or not raw:
            raise ValueError(
                f'The split file "{path}" must hold a non-empty list of '
                '{"train": [...], "test": [...]} dicts.'
                f'{self._layout_hint()}')
        splits = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or not {'train', 'test'
                                                  } <= set(item):
                raise ValueError(
                    f'Split {i} of "{path}" must be a dict with "train" and '
                    f'"test" lists, got {str(item)[:80]}.')
            try:
                splits.append({
                    key:
                    sorted(prid2011_person_name(p) for p in item[key])
                    for key in ('train', 'test')
                })
            except (ValueError, TypeError) as e:
                raise ValueError(f'Split {i} of "{path}": {e}') from None
        return splits

    def generate_splits(self,
                        persons: List[str]) -> List[Dict[str, List[str]]]:
        """Generate ``num_splits`` splits of the eligible persons."""
        both = set(self.list_persons(0)) & set(self.list_persons(1))
        eligible = [
            p for p in sorted(both)
            if self.person_id(p) <= self.split_num_persons and all(
                len(self.list_frames(cam, p)) >= self.split_min_frames
                for cam in (0, 1))
        ]
        if len(eligible) < 2:
            raise ValueError(
                f'Cannot generate PRID-2011 splits: only {len(eligible)} '
                f'persons numbered <= {self.split_num_persons} have >= '
                f'{self.split_min_frames} frames in both cameras under '
                f'"{self.camera_root}".')
        return generate_prid2011_splits(
            eligible, self.num_splits, seed=self.split_seed)

"""Several video Re-ID test sets in one pass, evaluated separately."""
import copy
from typing import List, Sequence, Union

from mmengine.dataset import BaseDataset, ConcatDataset

from mmdcct.registry import DATASETS

__all__ = ['ConcatVideoReIDDataset']


@DATASETS.register_module()
class ConcatVideoReIDDataset(ConcatDataset):
    """Concatenate video Re-ID datasets whose metainfo differ.

    MMEngine's ``ConcatDataset`` requires equal metainfo; here each dataset
    keeps its own (identity and camera statistics, name), and ``metainfo``
    describes the concatenation so that
    :class:`~mmdcct.evaluation.MultiDatasetEvaluator` can evaluate every
    dataset on its own: ``dataset_names``, ``cumulative_sizes`` (the end of
    every dataset in the sample order) and ``datasets`` (their metainfo).

    Args:
        datasets (Sequence[BaseDataset | dict]): The datasets or their
            configs, in evaluation order.
        lazy_init (bool): Whether to defer loading the annotations.
            Defaults to False.
    """

    def __init__(self,
                 datasets: Sequence[Union[BaseDataset, dict]],
                 lazy_init: bool = False) -> None:
        built: List[BaseDataset] = [
            DATASETS.build(d) if isinstance(d, dict) else d for d in datasets
        ]
        if not built:
            raise ValueError('ConcatVideoReIDDataset needs at least one '
                             'dataset in `datasets`.')
        keys = sorted(set().union(*(d.metainfo.keys() for d in built)))
        super().__init__(built, lazy_init=lazy_init, ignore_keys=keys)

    @property
    def metainfo(self) -> dict:
        """The names, ends and metainfo of the concatenated datasets.

        Returns:
            dict: ``dataset_name`` (the names joined by ``+``),
            ``dataset_names``, ``cumulative_sizes`` and ``datasets``.
        """
        self.full_init()
        infos = [copy.deepcopy(d.metainfo) for d in self.datasets]
        names = [
            str(info.get('dataset_name', type(d).__name__))
            for info, d in zip(infos, self.datasets)
        ]
        return dict(
            dataset_name='+'.join(names),
            dataset_names=names,
            cumulative_sizes=list(self.cumulative_sizes),
            datasets=infos)

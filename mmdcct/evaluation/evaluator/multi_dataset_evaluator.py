"""Evaluate the datasets of a concatenated test set separately."""
import re
from typing import Dict, List, Optional, Sequence, Union

from mmengine.dist import (broadcast_object_list, collect_results,
                           is_main_process)
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from mmdcct.registry import EVALUATORS, METRICS

__all__ = ['MultiDatasetEvaluator']


def _to_cpu(data):
    """Move the tensors of nested results to the CPU."""
    if isinstance(data, BaseDataElement) or hasattr(data, 'cpu'):
        return data.cpu()
    if isinstance(data, list):
        return [_to_cpu(d) for d in data]
    if isinstance(data, tuple):
        return tuple(_to_cpu(d) for d in data)
    if isinstance(data, dict):
        return {k: _to_cpu(v) for k, v in data.items()}
    return data


@EVALUATORS.register_module()
class MultiDatasetEvaluator(Evaluator):
    """Run every metric on each dataset of a concatenated test set.

    The test (or validation) dataloader holds a
    :class:`~mmdcct.datasets.ConcatVideoReIDDataset`, so every tracklet is
    embedded in one pass. The results, gathered in dataset order, are split
    at the ``cumulative_sizes`` of its metainfo and each part is evaluated
    alone (its own query / gallery sets and statistics); the keys get the
    dataset's prefix, e.g. ``mars/mAP``, ``duke/mAP``, ``ilids/R1``. Use the
    prefixed key in ``save_best`` (e.g. ``save_best='mars/mAP'``).

    Args:
        metrics (dict | BaseMetric | Sequence): The metric(s) applied to
            every dataset.
        dataset_prefixes (Sequence[str]): One key prefix per dataset, in
            the order of the concatenation.

    Examples:
        >>> test_evaluator = dict(
        ...     type='MultiDatasetEvaluator',
        ...     metrics=dict(type='VideoReIDMetric'),
        ...     dataset_prefixes=['mars', 'duke', 'ilids'])
    """

    def __init__(self, metrics: Union[dict, BaseMetric, Sequence],
                 dataset_prefixes: Sequence[str]) -> None:
        # mmdcct's registry: no default scope needed for mmdcct's metrics
        if not isinstance(metrics, Sequence):
            metrics = [metrics]
        super().__init__([
            METRICS.build(m) if isinstance(m, dict) else m for m in metrics
        ])
        prefixes = list(dataset_prefixes)
        bad = [p for p in prefixes if not re.fullmatch(r'[\w.-]+', str(p))]
        if not prefixes or bad or len(set(prefixes)) != len(prefixes):
            raise ValueError(
                'MultiDatasetEvaluator: `dataset_prefixes` must be distinct, '
                'non-empty names (letters, digits, _ . -), one per dataset, '
                f'got {dataset_prefixes}.')
        self.dataset_prefixes = prefixes

    def _dataset_ends(self, size: int) -> List[int]:
        """The end of every dataset in the sample order."""
        meta: Optional[dict] = self.dataset_meta
        ends = None if meta is None else meta.get('cumulative_sizes')
        if ends is None:
            raise ValueError(
                'MultiDatasetEvaluator needs `cumulative_sizes` in the '
                "dataset's metainfo: use dataset=dict(type="
                "'ConcatVideoReIDDataset', datasets=[...]) in the "
                'val / test dataloader.')
        ends = [int(e) for e in ends]
        if len(ends) != len(self.dataset_prefixes):
            names = meta.get('dataset_names', [])
            raise ValueError(
                f'MultiDatasetEvaluator has {len(self.dataset_prefixes)} '
                f'dataset_prefixes {self.dataset_prefixes} for '
                f'{len(ends)} datasets {names}: give one prefix per '
                'dataset, in the same order.')
        if ends[-1] != size:
            raise ValueError(
                f'MultiDatasetEvaluator: the datasets hold {ends[-1]} '
                f'samples, the dataloader reported {size}.')
        return ends

    def evaluate(self, size: int) -> Dict[str, float]:
        """Evaluate every metric on each dataset.

        Args:
            size (int): Samples in the whole concatenated dataset (the
                sampler's padding is dropped by it).

        Returns:
            dict[str, float]: ``'{dataset_prefix}/[{metric prefix}/]{key}'``
            for every dataset, metric and key.
        """
        ends = self._dataset_ends(size)
        starts = [0] + ends[:-1]
        metrics: Dict[str, float] = {}
        for metric in self.metrics:
            if metric.collect_device == 'cpu':
                results = collect_results(
                    metric.results,
                    size,
                    metric.collect_device,
                    tmpdir=metric.collect_dir)
            else:
                results = collect_results(metric.results, size,
                                          metric.collect_device)
            if is_main_process():
                results = _to_cpu(results)
                output = {}
                for prefix, start, end in zip(self.dataset_prefixes, starts,
                                              ends):
                    print_log(
                        f'MultiDatasetEvaluator: {prefix} (samples '
                        f'{start}..{end - 1})',
                        logger='current')
                    part = metric.compute_metrics(results[start:end])
                    for key, value in part.items():
                        name = '/'.join(
                            p for p in (prefix, metric.prefix, key) if p)
                        if name in metrics or name in output:
                            raise ValueError(
                                'MultiDatasetEvaluator: two metrics give '
                                f'{name!r}; give them different prefixes.')
                        output[name] = value
                shared = [output]
            else:
                shared = [None]
            broadcast_object_list(shared)
            metrics.update(shared[0])
            metric.results.clear()
        return metrics

"""``MultiDatasetEvaluator``: per-dataset metrics with prefixes."""
import numpy as np
import pytest
import torch

from mmdcct.evaluation import MultiDatasetEvaluator, VideoReIDMetric
from mmdcct.registry import EVALUATORS


def _samples(seed, num, num_ids=4):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(num_ids, 8))
    out = []
    for i in range(num):
        pid = int(rng.integers(0, num_ids))
        out.append(
            dict(
                pred_feature=torch.from_numpy(centres[pid] +
                                              rng.normal(size=8)).float(),
                pid=pid,
                camid=int(rng.integers(0, 3)),
                is_query=i % 3 == 0,
                is_gallery=True,
                sample_idx=i))
    return out


def _alone(samples):
    metric = VideoReIDMetric()
    metric.process(None, samples)
    return metric.evaluate(len(samples))


def test_splits_and_prefixes():
    # the same ids in both datasets: they must not be matched across them
    first, second = _samples(0, 30), _samples(1, 18)
    evaluator = EVALUATORS.build(
        dict(
            type='MultiDatasetEvaluator',
            metrics=[
                dict(type='VideoReIDMetric'),
                dict(type='VideoReIDMetric', topk=1, prefix='euc',
                     distance='euclidean')
            ],
            dataset_prefixes=['mars', 'duke']))
    evaluator.dataset_meta = dict(
        cumulative_sizes=[30, 48], dataset_names=['MARS', 'Duke'])
    for start in range(0, 48, 5):  # batches across the border
        evaluator.process(first[start:start + 5] if start < 30 else [],
                          None)
    evaluator.process(second, None)
    metrics = evaluator.evaluate(48)
    expected = {f'mars/{k}': v for k, v in _alone(first).items()}
    expected.update({f'duke/{k}': v for k, v in _alone(second).items()})
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, abs=1e-9)
    assert 'euc' in ' '.join(metrics) and 'mars/euc/R1' in metrics
    assert set(metrics) == set(expected) | {
        f'{d}/euc/{k}'
        for d in ('mars', 'duke') for k in ('mAP', 'mINP', 'R1')
    }
    assert all(not m.results for m in evaluator.metrics)
    joined = _alone(first + second)  # what a plain metric would give
    assert joined['mAP'] != pytest.approx(metrics['mars/mAP'], abs=1e-3)


def test_errors():
    evaluator = MultiDatasetEvaluator(
        dict(type='VideoReIDMetric'), dataset_prefixes=['a', 'b'])
    evaluator.process(_samples(0, 6))
    with pytest.raises(ValueError, match='ConcatVideoReIDDataset'):
        evaluator.dataset_meta = dict(dataset_name='MARS')
        evaluator.evaluate(6)
    evaluator.dataset_meta = dict(cumulative_sizes=[6], dataset_names=['x'])
    with pytest.raises(ValueError, match='one prefix per dataset'):
        evaluator.evaluate(6)
    evaluator.dataset_meta = dict(cumulative_sizes=[3, 5])
    with pytest.raises(ValueError, match='5 samples'):
        evaluator.evaluate(6)
    with pytest.raises(ValueError, match='distinct'):
        MultiDatasetEvaluator(dict(type='VideoReIDMetric'), ['a', 'a'])
    with pytest.raises(ValueError, match='distinct'):
        MultiDatasetEvaluator(dict(type='VideoReIDMetric'), ['a/b'])

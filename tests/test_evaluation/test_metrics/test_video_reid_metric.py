"""Tests of ``VideoReIDMetric``: values, padding, 2-process gloo, registry."""
import os.path as osp
import pickle
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.dataset import DefaultSampler

from mmdcct.evaluation.functional import compute_distance, evaluate_rank
from mmdcct.evaluation.metrics import VideoReIDMetric
from mmdcct.registry import METRICS

METRIC_KEYS = ['mAP', 'mINP', 'R1', 'R5', 'R10', 'R20']


def make_samples(num_samples, seed=0, dim=8):
    """Tracklet outputs as the model's ``data_sample.to_dict()`` gives them.

    4 identities over 3 cameras; every 3rd tracklet is a query, and the
    queries are also in the gallery (as in MARS) except every 2nd one.
    """
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(4, dim))
    samples = []
    for i in range(num_samples):
        pid = int(rng.integers(0, 4))
        is_query = i % 3 == 0
        feature = centers[pid] + 0.8 * rng.normal(size=dim)
        samples.append(
            dict(
                pred_feature=torch.from_numpy(feature).float(),
                pid=pid,
                camid=int(rng.integers(0, 3)),
                is_query=is_query,
                is_gallery=(not is_query) or i % 2 == 0,
                sample_idx=i,
                img_paths=[f'frame_{i}.jpg']))
    return samples


def expected_metrics(samples, distance='cosine'):
    """The numbers of ``evaluate_rank`` on the same query / gallery."""
    query = [s for s in samples if s['is_query']]
    gallery = [s for s in samples if s['is_gallery']]
    distmat = compute_distance(
        torch.stack([s['pred_feature'] for s in query]),
        torch.stack([s['pred_feature'] for s in gallery]), distance)
    return evaluate_rank(distmat, [s['pid'] for s in query],
                         [s['pid']
                          for s in gallery], [s['camid'] for s in query],
                         [s['camid'] for s in gallery])


def run_metric(metric, samples, indices, batch_size=2):
    for start in range(0, len(indices), batch_size):
        batch = [samples[i] for i in indices[start:start + batch_size]]
        metric.process(None, batch)
    return metric.evaluate(size=len(samples))


@pytest.mark.parametrize('distance', ['cosine', 'euclidean'])
def test_evaluate_equals_evaluate_rank(distance):
    samples = make_samples(40)
    expected = expected_metrics(samples, distance)
    metric = VideoReIDMetric(distance=distance)
    result = run_metric(metric, samples, list(range(len(samples))))
    assert list(result) == METRIC_KEYS  # no prefix by default
    for key in METRIC_KEYS:
        assert result[key] == pytest.approx(expected[key], abs=1e-9)
    assert metric.results == []  # cleared by evaluate
    assert 0 < result['mAP'] <= 100


def test_padding_is_dropped_and_prefix():
    samples = make_samples(11)
    metric = VideoReIDMetric()
    plain = run_metric(metric, samples, list(range(11)))
    # a sampler padding with the first samples; ``size`` drops them
    padded = run_metric(metric, samples, list(range(11)) + [0])
    assert padded == plain
    with_prefix = run_metric(
        VideoReIDMetric(prefix='mars'), samples, list(range(11)))
    assert with_prefix == {f'mars/{k}': v for k, v in plain.items()}


def test_data_sample_to_dict_and_errors():
    from mmdcct.structures.video_reid_data_sample import VideoReIDDataSample
    samples = make_samples(9)
    as_dicts = []
    for s in samples:
        ds = VideoReIDDataSample(
            metainfo=dict(
                pid=s['pid'],
                camid=s['camid'],
                is_query=s['is_query'],
                is_gallery=s['is_gallery']))
        ds.set_pred_feature(s['pred_feature'])
        as_dicts.append(ds.to_dict())
    metric = VideoReIDMetric()
    assert run_metric(metric, as_dicts,
                      list(range(9))) == run_metric(metric, samples,
                                                    list(range(9)))

    with pytest.raises(KeyError, match='is_gallery'):
        metric.process(None, [{
            k: v
            for k, v in samples[0].items() if k != 'is_gallery'
        }])
    metric.results.clear()
    no_query = [dict(s, is_query=False) for s in samples]
    with pytest.raises(ValueError, match='0 query'):
        run_metric(metric, no_query, list(range(9)))
    with pytest.raises(ValueError, match='distance'):
        VideoReIDMetric(distance='hamming')


class FakeDataset:
    """Just a length, for ``DefaultSampler``."""

    def __init__(self, length):
        self.length = length

    def __len__(self):
        return self.length


def _dist_worker(rank, world_size, port, sizes, work_dir, out_file):
    torch.set_num_threads(1)
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size)
    try:
        outputs = {}
        for size in sizes:
            samples = make_samples(size)
            sampler = DefaultSampler(FakeDataset(size), shuffle=False)
            indices = list(sampler)
            metric = VideoReIDMetric(
                collect_dir=osp.join(work_dir, f'collect_{size}'))
            result = run_metric(metric, samples, indices)
            outputs[size] = dict(result=result, indices=indices)
        if rank == 0:
            with open(out_file, 'wb') as f:
                pickle.dump(outputs, f)
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_gloo_equals_single_process(tmp_path):
    sizes = (7, 11)  # not divisible by the world size: the sampler pads
    out_file = str(tmp_path / 'rank0.pkl')
    mp.spawn(
        _dist_worker,
        args=(2, _free_port(), sizes, str(tmp_path), out_file),
        nprocs=2,
        join=True)
    with open(out_file, 'rb') as f:
        outputs = pickle.load(f)
    for size in sizes:
        # rank 0 got the even indices, padded to ceil(size / 2)
        assert outputs[size]['indices'] == list(range(0, size, 2))
        samples = make_samples(size)
        single = run_metric(VideoReIDMetric(), samples, list(range(size)))
        assert outputs[size]['result'] == single  # exactly equal
        expected = expected_metrics(samples)
        for key in METRIC_KEYS:
            assert single[key] == pytest.approx(expected[key], abs=1e-9)


def test_registry():
    metric = METRICS.build(dict(type='VideoReIDMetric', topk=(1, 3)))
    assert isinstance(metric, VideoReIDMetric)
    assert metric.topk == (1, 3)


def test_build_from_another_scope_without_importing_mmdcct():
    code = '\n'.join([
        'import sys',
        'from mmengine.registry import METRICS as ROOT, DefaultScope',
        "assert not [m for m in sys.modules if m.startswith('mmdcct')]",
        "with DefaultScope.overwrite_default_scope('mmpretrain'):",
        "    metric = ROOT.build(dict(type='mmdcct.VideoReIDMetric',",
        "                             distance='euclidean'))",
        'from mmdcct.evaluation.metrics import VideoReIDMetric',
        'assert type(metric) is VideoReIDMetric, type(metric)',
        "assert metric.distance == 'euclidean'",
        "print('OK')",
    ])
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith('OK')

"""Smoke test of the ``data`` sub-benchmark (not timed): the CLI runs on a
tiny synthetic MARS it writes itself, 1 timed batch, worker count 0."""
import importlib.util
import json
import os.path as osp

import cv2
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _cli():
    spec = importlib.util.spec_from_file_location(
        'benchmark_cli',
        osp.join(REPO, 'tools', 'analysis_tools', 'benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_benchmark_smoke(tmp_path):
    root = str(tmp_path / 'MARS')
    out = str(tmp_path / 'report.json')
    threads = torch.get_num_threads()
    cv2_threads = cv2.getNumThreads()
    report = _cli().main([
        'data', '--data-root', root, '--num-ids', '2', '--height', '32',
        '--width', '16', '--workers', '0', '--batch-size', '2',
        '--num-batches', '1', '--breakdown', '2', '--profile', '2', '--out',
        out
    ])
    # the process-wide thread settings are restored
    assert torch.get_num_threads() == threads
    assert cv2.getNumThreads() == cv2_threads
    with open(out) as f:
        assert json.load(f)['benchmark'] == 'data'

    assert report['benchmark'] == 'data'
    assert {'torch_threads', 'cv2_threads',
            'cpu_cores'} <= set(report['environment'])
    config = report['config']
    assert config['data']['generated'] is True
    assert config['data']['frame_size_hw'] == [32, 16]
    assert config['threads']['worker_torch'] == 1
    assert config['workers'] == [0] and config['batch_size'] == 2
    assert osp.isfile(osp.join(root, 'info', 'tracks_train_info.mat'))

    expected = ['train', 'test']
    if 'train_batch_aug' in config['variants']:
        expected.insert(1, 'train_batch_aug')
        augments = report['results']['train_batch_aug']['batch_augments']
        assert [a['type'] for a in augments
                ] == ['TrackletBatchFlip', 'TrackletBatchRandomErasing']
    assert list(report['results']) == expected
    for variant in expected:
        result = report['results'][variant]
        (run, ) = result['runs']
        ours, plain = run['ours'], run['plain']
        assert run['workers'] == 0
        # the same work on both sides: tracklets, frames, output shape
        assert ours['tracklets'] == plain['tracklets'] == 2
        assert ours['frames'] == plain['frames'] == 2 * 8
        assert ours['output_shape'] == plain['output_shape'] == [
            2, 8, 3, 256, 128
        ]
        assert ours['output_dtype'] == plain['output_dtype'] == \
            'torch.float32'
        assert ours['tracklets_per_s'] > 0 and run['ratio'] > 0
        breakdown = result['breakdown_seconds_per_tracklet']
        assert 'LoadTrackletFrames' in breakdown['ours']
        assert 'PIL open + convert' in breakdown['plain']
    assert report['profile_train'] and all(r['ncalls'] > 0
                                           for r in report['profile_train'])

"""Smoke test of the ``data`` sub-benchmark (not timed): the CLI runs on a
tiny synthetic MARS it writes itself, 1 timed batch, worker count 0, and a
decode table over a few frames."""
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
        '--num-batches', '1', '--breakdown', '2', '--profile', '2',
        '--decode-frames', '5', '--decode-large', '3', '--decode-tracklet-len',
        '2', '--decode-runs', '1', '--out', out
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

    _check_decode(report['decode'], root)


def _check_decode(decode, root):
    """The decode table: structure and positive times (no ratios)."""
    from mmdcct.datasets.transforms import loading
    try:
        loading._get_turbojpeg()
        turbo = True
    except ImportError:
        turbo = False
    backends = ['cv2', 'pillow'] + (['turbojpeg'] if turbo else [])
    assert decode['backends'] == backends
    assert any('turbojpeg' in n for n in decode['notes']) is not turbo
    assert decode['tracklet_len'] == 2 and decode['runs'] == 1
    assert decode['sets']['real']['num_frames'] == 5
    assert decode['sets']['large']['num_frames'] == 3
    assert decode['large_generated'] is True
    assert osp.isdir(osp.join(root, 'decode_bench'))

    rows = decode['rows']
    real = [r for r in rows if r['set'] == 'real']
    large = [r for r in rows if r['set'] == 'large']
    assert len(real) == 1 + len(backends)
    assert len(large) == 1 + 2 * len(backends)
    assert len(rows) == len(real) + len(large)
    for r in rows:
        assert r['seconds'] > 0 and r['ms_per_frame'] > 0
        assert r['frames_per_s'] > 0 and r['vs_pil'] > 0
    # the PIL reference first, then the backends (large: full, reduced)
    assert [r['imdecode_backend'] for r in real] == [None] + backends
    assert [(r['imdecode_backend'], r['decode_size']) for r in large] == \
        [(None, None)] + [(b, None) for b in backends] + \
        [(b, [128, 256]) for b in backends]
    for r in real:
        assert r['frames'] == 5
        assert r['frame_size_hw'] == r['decoded_size_hw'] == [32, 16]
    for r in large:
        assert r['frames'] == 3 and r['frame_size_hw'] == [512, 256]
        assert r['decoded_size_hw'] == (
            [512, 256] if r['decode_size'] is None else [256, 128])


def test_data_benchmark_decode_switch():
    cli = _cli()
    assert cli.parse_args(['data']).decode is True
    assert cli.parse_args(['data', '--no-decode']).decode is False
    args = cli.parse_args(['data'])
    assert (args.decode_frames, args.decode_large, args.decode_tracklet_len,
            args.decode_runs) == (200, 100, 8, 3)

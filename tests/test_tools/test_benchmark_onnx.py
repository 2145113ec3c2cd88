"""Smoke test of the ``onnx`` sub-benchmark on the demo DCCT (no timing
asserted): export, PyTorch and onnxruntime cases run and agree."""
import os.path as osp
import sys

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs/dcct/dcct_demo.py')
# the ``benchmarks`` package lives beside tools/analysis_tools/benchmark.py
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))

from benchmarks import SUBCOMMANDS  # noqa: E402
from benchmarks.onnx import _run_case  # noqa: E402


def test_onnx_cases_run_and_agree(tmp_path):
    common = dict(config=DEMO, feature='base', batch_size=2, warmup=0,
                  runs=1, threads=None, opset=None,
                  onnx_file=str(tmp_path / 'demo.onnx'))
    export = _run_case(dict(common, kind='export'))
    assert export['shape'] == [4, 64, 32]
    assert export['feature_dim'] == 512 + 192
    assert osp.getsize(common['onnx_file']) > 1e6
    outputs = {}
    for runtime in ('pytorch', 'onnxruntime'):
        out_file = str(tmp_path / f'{runtime}.npy')
        res = _run_case(dict(common, kind=runtime, output_file=out_file))
        assert res['tracklets_per_second'] > 0
        assert res['peak_rss_mib'] > 0
        outputs[runtime] = np.load(out_file)
    # both processes' models come from one seed: the same features
    ref = outputs['pytorch']
    assert ref.shape == (2, 704)
    assert np.abs(outputs['onnxruntime'] - ref).max() <= 1e-4 * np.abs(
        ref).max()


def test_onnx_subcommand_is_registered():
    assert 'onnx' in SUBCOMMANDS
    import argparse
    parser = argparse.ArgumentParser()
    SUBCOMMANDS['onnx'][1](parser)
    args = parser.parse_args(['--config', DEMO, '--batch-size', '1'])
    assert args.feature == 'base' and args.batch_size == 1
    with pytest.raises(SystemExit):
        parser.parse_args(['--batch-size', 'x'])

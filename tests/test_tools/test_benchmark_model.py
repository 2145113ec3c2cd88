"""Smoke test of the ``model`` sub-benchmark (no timing asserted): the cases
run, report what the tables print, and the mode grammar is checked."""
import argparse
import os.path as osp
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs/dcct/dcct_demo.py')
# the ``benchmarks`` package lives beside tools/analysis_tools/benchmark.py
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))

from benchmarks import SUBCOMMANDS  # noqa: E402
from benchmarks.model import (DEFAULT_TRAIN_MODES, _run_case,  # noqa: E402
                              default_train_modes, parse_mode)


def test_parse_mode():
    assert parse_mode('fp32') == []
    assert parse_mode('channels_last+bf16') == ['channels_last', 'bf16']
    for bad in ('fp16', 'compile+compile', 'channels_last+'):
        with pytest.raises(ValueError, match='bad mode'):
            parse_mode(bad)


def test_default_modes_leave_out_emulated_bf16(monkeypatch):
    monkeypatch.setattr('torch.cuda.is_available', lambda: False)
    modes = default_train_modes(['avx2'])
    assert modes and all('bf16' not in parse_mode(m) for m in modes)
    assert default_train_modes(['amx_bf16']) == list(DEFAULT_TRAIN_MODES)


def _case(**kwargs):
    case = dict(config=DEMO, batch_size=2, threads=None, cfg_options={},
                feature=None, warmup=0, runs=1)
    case.update(kwargs)
    return case


def test_predict_case_reports_throughput_and_memory():
    base = _run_case(_case(kind='predict', mode='channels_last',
                           feature='base'))
    assert base['shape'] == [4, 64, 32]  # the demo config's T, H, W
    assert base['tracklets_per_second'] > 0
    assert base['frames_per_second'] == pytest.approx(
        4 * base['tracklets_per_second'])
    assert base['peak_rss_mib'] >= base['rss_model_mib'] > 0


def test_train_case_runs_the_switches():
    result = _run_case(_case(kind='train', mode='ckpt', runs=2))
    assert len(result['step_seconds_all']) == 2
    assert result['loss'] > 0


def test_flops_case_and_cli_entry():
    result = _run_case(_case(kind='flops', mode='fp32', runs=0))
    # CCA + HTA add FLOPs: 'all' costs more per frame than 'base'
    assert result['flops_per_frame_all'] > result['flops_per_frame_base'] > 0
    assert result['params_inference_all'] > result['params_inference_base']
    help_text, add_args, run = SUBCOMMANDS['model']
    parser = argparse.ArgumentParser()
    add_args(parser)
    args = parser.parse_args(['--configs', DEMO, '--train-modes', 'fp32'])
    assert args.batch_size == 2 and callable(run)

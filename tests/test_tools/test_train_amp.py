"""``tools/train.py --amp`` picks the mixed-precision recipe of the device:
fp16 ``AmpOptimWrapper`` with dynamic loss scaling on CUDA,
``mmdcct.AutocastOptimWrapper`` (bf16) on CPU."""
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmdcct.engine import AutocastOptimWrapper
from mmdcct.registry import OPTIM_WRAPPERS
from mmdcct.testing import build_model

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs/dcct/dcct_demo.py')


def build(**model_kwargs) -> torch.nn.Module:
    return build_model(DEMO, **model_kwargs)


def _load_train_tool():
    spec = importlib.util.spec_from_file_location(
        'mmdcct_train_tool', osp.join(REPO, 'tools/train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('cuda, expected', [
    (False, 'mmdcct.AutocastOptimWrapper'),
    (True, 'AmpOptimWrapper'),
])
def test_train_tool_amp_flag_picks_the_device_recipe(cuda, expected):
    train_tool = _load_train_tool()
    cfg = Config(dict(optim_wrapper=dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))))
    train_tool.enable_amp(cfg, cuda=cuda)
    assert cfg.optim_wrapper.type == expected
    if cuda:
        assert cfg.optim_wrapper.loss_scale == 'dynamic'
    else:
        assert cfg.optim_wrapper.dtype == 'bfloat16'
        wrapper = OPTIM_WRAPPERS.build(
            dict(cfg.optim_wrapper, optimizer=torch.optim.SGD(
                build().parameters(), lr=0.1)))
        assert isinstance(wrapper, AutocastOptimWrapper)
    cfg = Config(dict(optim_wrapper=dict(type='ApexOptimWrapper')))
    with pytest.raises(ValueError, match='ApexOptimWrapper'):
        train_tool.enable_amp(cfg, cuda=cuda)

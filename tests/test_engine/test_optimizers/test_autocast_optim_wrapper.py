"""``AutocastOptimWrapper`` (bf16 autocast, no loss scaling) trains the full
DCCT structure at demo scale (ResNet-18 + 4-layer ViT, CCA, HTA,
self-distillation) close to float32."""
import os.path as osp

import pytest
import torch

from mmdcct.engine import AutocastOptimWrapper
from mmdcct.registry import OPTIM_WRAPPERS
from mmdcct.testing import build_model, tracklet_batch

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
DEMO = osp.join(REPO, 'configs/dcct/dcct_demo.py')


def build(**model_kwargs) -> torch.nn.Module:
    return build_model(DEMO, **model_kwargs)


def _wrapper(model, type_='OptimWrapper', **kwargs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    return OPTIM_WRAPPERS.build(
        dict(type=type_, optimizer=optimizer, **kwargs))


def test_autocast_optim_wrapper_train_step_close_to_fp32():
    plain = build()
    amp = build()
    amp.load_state_dict(plain.state_dict())
    wrapper_fp32 = _wrapper(plain)
    wrapper_bf16 = _wrapper(amp, 'mmdcct.AutocastOptimWrapper')
    assert isinstance(wrapper_bf16, AutocastOptimWrapper)

    # the forward really runs in bf16 under the wrapper's context
    with wrapper_bf16.optim_context(amp):
        out = amp.backbone.cnn.conv1(torch.randn(1, 3, 8, 8))
    assert out.dtype == torch.bfloat16

    torch.manual_seed(5)
    log_fp32 = plain.train_step(tracklet_batch(), wrapper_fp32)
    torch.manual_seed(5)
    log_bf16 = amp.train_step(tracklet_batch(), wrapper_bf16)
    assert log_fp32.keys() == log_bf16.keys()
    for key in log_fp32:
        assert log_bf16[key].dtype == torch.float32 or 'acc' in key
        torch.testing.assert_close(
            log_bf16[key].float(), log_fp32[key].float(), rtol=0.05,
            atol=0.05, msg=key)
    # master weights stay float32 and the SGD step moved them alike
    deltas = []
    init = build().state_dict()
    for (name, p32), p16 in zip(plain.named_parameters(), amp.parameters()):
        assert p16.dtype == torch.float32
        d32, d16 = p32.detach() - init[name], p16.detach() - init[name]
        if d32.norm() > 0:
            deltas.append(
                float(torch.nn.functional.cosine_similarity(
                    d32.flatten(), d16.flatten(), dim=0)))
    assert len(deltas) > 100
    # bf16 keeps ~3 significant digits: the update directions agree
    # (median cosine 0.93 here; the temporal neck, fed by bf16 backbone
    # features, is the noisiest) without being equal
    assert sorted(deltas)[len(deltas) // 2] > 0.85


def test_autocast_optim_wrapper_refuses_float16():
    with pytest.raises(ValueError, match='AmpOptimWrapper'):
        _wrapper(build(), 'mmdcct.AutocastOptimWrapper', dtype='float16')

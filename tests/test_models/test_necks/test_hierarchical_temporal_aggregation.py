import itertools

import pytest
import torch

from mmdcct.models.necks import HierarchicalTemporalAggregation
from mmdcct.models.utils import (TemporalMultiheadAttention,
                                 TemporalTransformerBlock)
from mmdcct.registry import MODELS

C1, C2, D, T = 32, 24, 16, 4


def _hta(**kwargs):
    cfg = dict(
        type='HierarchicalTemporalAggregation',
        in_channels=(C1, C2),
        embed_dims=D,
        num_heads=4,
        num_frames=T)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _inputs(b=3, t=T, requires_grad=False):
    return (torch.randn(b, t, C1, requires_grad=requires_grad),
            torch.randn(b, t, C2, requires_grad=requires_grad))


SWITCHES = [
    dict(aggregate_transformer=False, gated_attention=False),  # TT only
    dict(gated_attention=False),  # TT + AT
    dict(),  # TT + AT + GA
]


@pytest.mark.parametrize('depth,switches',
                         list(itertools.product([1, 2, 3, 4], SWITCHES)))
def test_hta_switches_and_depths(depth, switches):
    hta = _hta(depth=depth, **switches)
    hta.init_weights()
    out = hta(_inputs())
    assert out.shape == (3, 2 * D)
    assert torch.isfinite(out).all()
    assert (hta.at is None) == (not switches.get('aggregate_transformer',
                                                 True))
    has_ga = switches.get('gated_attention', True) and depth > 1
    assert (hta.ga_cnn is not None) == has_ga
    if has_ga:
        assert len(hta.ga_cnn) == depth - 1


def test_hta_full_size():
    hta = HierarchicalTemporalAggregation(in_channels=(2048, 768))
    out = hta((torch.randn(2, 8, 2048), torch.randn(2, 8, 768)))
    assert out.shape == (2, 1024)


def test_hta_tt_only_is_mean_of_concat():
    hta = _hta(depth=1, aggregate_transformer=False, gated_attention=False)
    x_cnn, x_trans = _inputs()
    out = hta((x_cnn, x_trans))
    xc = hta.tt_cnn[0](hta.align_cnn(x_cnn))
    xt = hta.tt_trans[0](hta.align_trans(x_trans))
    torch.testing.assert_close(out, torch.cat([xc, xt], dim=2).mean(dim=1))


def test_hta_all_switches_off_is_mean_of_aligned():
    hta = _hta(
        depth=2,
        temporal_transformer=False,
        aggregate_transformer=False,
        gated_attention=False)
    x_cnn, x_trans = _inputs()
    expected = torch.cat([hta.align_cnn(x_cnn),
                          hta.align_trans(x_trans)], dim=2).mean(dim=1)
    torch.testing.assert_close(hta((x_cnn, x_trans)), expected)


def test_hta_mlp_ratios():
    hta = _hta(depth=3)
    assert hta.mlp_ratios == [4.0, 0.25, 0.25]
    assert hta.tt_cnn[0].mlp[0].out_features == 4 * D
    assert hta.tt_cnn[1].mlp[0].out_features == D // 4
    assert hta.at[1].mlp[0].out_features == 2 * D // 4
    assert _hta(depth=3, mlp_ratios=[1.0, 2.0, 3.0]).mlp_ratios == [
        1.0, 2.0, 3.0
    ]
    assert _hta(depth=2, mlp_ratios=2.0).mlp_ratios == [2.0, 2.0]
    with pytest.raises(ValueError, match='mlp_ratios'):
        _hta(depth=3, mlp_ratios=[1.0, 2.0, 3.0, 4.0])


def test_hta_depth_zero_raises():
    with pytest.raises(ValueError, match='temporal_neck=None'):
        _hta(depth=0)


def test_hta_num_frames_mismatch():
    hta = _hta()
    with pytest.raises(ValueError, match=r'num_frames=4.*\b6\b'):
        hta(_inputs(t=6))


def test_hta_gates_in_open_unit_interval():
    hta = _hta(depth=3)
    out, gates = hta(_inputs(b=4), return_gates=True)
    assert out.shape == (4, 2 * D)
    assert len(gates) == 2
    for g_cnn, g_trans in gates:
        for g in (g_cnn, g_trans):
            assert g.shape == (4, T, D)
            assert (g > 0).all() and (g < 1).all()
    _, gates = _hta(depth=3, gated_attention=False)(
        _inputs(), return_gates=True)
    assert gates == []


@pytest.mark.parametrize('depth', [1, 2])
def test_hta_first_layer_gate(depth):
    """Tab. VII's one-layer GA row: layer 1 is gated with v_0, the time
    average of both aligned inputs, before its TTs and AT."""
    torch.manual_seed(0)
    hta = _hta(depth=depth, first_layer_gate=True)
    hta.eval()  # the gates' BatchNorm uses its running statistics
    x_cnn, x_trans = _inputs()
    out, gates = hta((x_cnn, x_trans), return_gates=True)
    assert len(gates) == depth  # layer 1 and every later layer
    xc, xt = hta.align_cnn(x_cnn), hta.align_trans(x_trans)
    v0 = torch.cat([xc, xt], dim=2).mean(dim=1)
    xc, g_c = hta.first_ga_cnn(xc, v0)
    xt, g_t = hta.first_ga_trans(xt, v0)
    torch.testing.assert_close(gates[0][0], g_c)
    torch.testing.assert_close(gates[0][1], g_t)
    xc, xt = hta.tt_cnn[0](xc), hta.tt_trans[0](xt)
    video = hta.at[0](torch.cat([xc, xt], dim=2)).mean(dim=1)
    if depth == 2:
        xc, _ = hta.ga_cnn[0](xc, video)
        xt, _ = hta.ga_trans[0](xt, video)
        xc, xt = hta.tt_cnn[1](xc), hta.tt_trans[1](xt)
        video = hta.at[1](torch.cat([xc, xt], dim=2)).mean(dim=1)
    torch.testing.assert_close(out, video)
    # off by default: the same weights without the first gate differ
    plain = _hta(depth=depth)
    assert plain.first_ga_cnn is None
    plain.load_state_dict(
        {k: v for k, v in hta.state_dict().items()
         if not k.startswith('first_ga')})
    plain.eval()
    assert not torch.allclose(plain((x_cnn, x_trans)), out)


def test_hta_first_layer_gate_needs_gated_attention():
    with pytest.raises(ValueError, match='gated_attention=True'):
        _hta(depth=1, gated_attention=False, first_layer_gate=True)


@pytest.mark.parametrize('detach', [True, False])
def test_hta_detach_input(detach):
    hta = _hta(detach_input=detach)
    x_cnn, x_trans = _inputs(requires_grad=True)
    hta((x_cnn, x_trans)).sum().backward()
    for x in (x_cnn, x_trans):
        if detach:
            assert x.grad is None
        else:
            assert x.grad is not None and x.grad.abs().sum() > 0
    # HTA's own parameters are trained either way
    assert hta.align_cnn.weight.grad is not None


@pytest.mark.parametrize('out_proj', [True, False])
def test_sdpa_equals_explicit_attention(out_proj):
    torch.manual_seed(0)
    attn = TemporalMultiheadAttention(16, num_heads=4, out_proj=out_proj)
    x = torch.randn(3, 5, 16)
    fused = attn(x)
    attn.use_sdpa = False
    explicit = attn(x)
    torch.testing.assert_close(fused, explicit, rtol=1e-5, atol=1e-6)
    if not out_proj:
        assert isinstance(attn.proj, torch.nn.Identity)


def test_hta_use_sdpa_switch_same_outputs_and_grads():
    torch.manual_seed(0)
    fused = _hta(use_sdpa=True)
    explicit = _hta(use_sdpa=False)
    explicit.load_state_dict(fused.state_dict())
    assert all(not m.use_sdpa for m in explicit.modules()
               if isinstance(m, TemporalMultiheadAttention))
    inputs = _inputs()
    out_fused, out_explicit = fused(inputs), explicit(inputs)
    torch.testing.assert_close(out_fused, out_explicit, rtol=1e-5, atol=1e-5)
    out_fused.square().sum().backward()
    out_explicit.square().sum().backward()
    for (name, a), b in zip(fused.named_parameters(), explicit.parameters()):
        if a.grad is not None:
            torch.testing.assert_close(
                a.grad, b.grad, rtol=1e-4, atol=1e-5, msg=name)


def test_hta_attn_out_proj_switch():
    hta = _hta(attn_out_proj=False)
    assert isinstance(hta.tt_cnn[0].attn.proj, torch.nn.Identity)
    assert hta(_inputs()).shape == (3, 2 * D)


def test_transformer_block_layout():
    block = TemporalTransformerBlock(16, num_frames=T, num_heads=4)
    assert block.pos_embed.shape == (1, T, 16)
    assert block.norm_out.eps == 1e-6
    assert block.attn.qkv.bias is not None
    x = torch.randn(2, T, 16)
    h = x + block.pos_embed
    h = h + block.attn(block.norm1(h))
    h = h + block.mlp(block.norm2(h))
    torch.testing.assert_close(block(x), block.norm_out(h))

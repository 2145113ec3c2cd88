"""Per-component parameter / FLOP counting of video Re-ID models."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.analysis import FlopAnalyzer

from mmdcct.registry import MODELS
from mmdcct.utils import register_all_modules
from mmdcct.utils.complexity import (lstm_flop_jit, model_complexity,
                                     model_components, sdpa_flop_jit)

register_all_modules()

T, H, W = 4, 64, 32
CNN = dict(
    type='mmpretrain.ResNet',
    depth=18,
    strides=(1, 2, 2, 1),
    out_indices=(3, ))
VIT = dict(
    type='mmpretrain.VisionTransformer',
    arch=dict(
        embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64),
    img_size=(H, W),
    patch_size=16,
    out_type='raw')


def dcct_model(temporal=True):
    return MODELS.build(
        dict(
            type='VideoReID',
            backbone=dict(type='CoupledBackbone', cnn=CNN, transformer=VIT),
            spatial_neck=dict(
                type='ComplementaryContentAttention', in_channels=(512, 32)),
            temporal_neck=dict(
                type='HierarchicalTemporalAggregation',
                in_channels=(512, 32),
                embed_dims=32,
                num_heads=2,
                num_frames=T) if temporal else None,
            head=dict(
                type='SelfDistillationHead',
                num_classes=5,
                frame_channels=(512, 32),
                spatial_channels=(512, 32),
                video_channels=64 if temporal else None,
                video_loss=temporal,
                loss_ld=dict() if temporal else None,
                loss_fd=dict() if temporal else None),
            test_cfg=dict(feature='final' if temporal else 'all')))


def count(module, *inputs, **handles):
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.set_op_handle(**handles)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.total()


class SDPA(nn.Module):

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


def test_sdpa_handle_counts_both_matmuls():
    q = torch.randn(2, 3, 5, 8)  # (B, heads, L, E)
    k = torch.randn(2, 3, 7, 8)  # S = 7
    v = torch.randn(2, 3, 7, 4)  # Ev = 4
    flops = count(SDPA(), q, k, v,
                  **{'aten::scaled_dot_product_attention': sdpa_flop_jit})
    assert flops == 2 * 3 * 5 * 7 * (8 + 4)


def test_lstm_handle():
    lstm = nn.LSTM(6, 4, num_layers=2, batch_first=True, bidirectional=True)
    x = torch.randn(3, 5, 6)  # (B, T, D)
    flops = count(lstm, x, **{'aten::lstm': lstm_flop_jit})
    layer1 = 2 * 5 * 3 * 4 * 4 * (6 + 4)
    layer2 = 2 * 5 * 3 * 4 * 4 * (8 + 4)
    assert flops == layer1 + layer2


def test_components_of_coupled_and_single_models():
    model = dcct_model()
    assert list(model_components(model).values()) == [
        'backbone.cnn', 'backbone.transformer', 'spatial_neck',
        'temporal_neck', 'head'
    ]
    single = MODELS.build(
        dict(
            type='VideoReID',
            backbone=dict(type='SingleBackbone', backbone=CNN),
            head=dict(
                type='BNNeckHead', num_classes=5, in_channels=(512, ))))
    assert list(
        model_components(single).values()) == ['backbone.backbone', 'head']


def test_base_mode_counts_the_backbones_only():
    model = dcct_model()
    model.train()
    base = model_complexity(model, T, (H, W), 'base')
    full = model_complexity(model, T, (H, W), 'all')
    # mode and test feature restored
    assert model.training and model.test_cfg['feature'] == 'final'
    comps = base['components']
    backbone_flops = sum(c['flops'] for k, c in comps.items()
                         if k.startswith('backbone'))
    assert base['flops'] == backbone_flops > 0
    for key in ('spatial_neck', 'temporal_neck', 'head'):
        entry = next(c for k, c in comps.items() if k.startswith(key))
        assert entry['flops'] == 0 and entry['params_inference'] == 0
        assert entry['params'] > 0
    backbone_params = sum(p.numel() for p in model.backbone.parameters())
    assert base['params_inference'] == backbone_params
    assert base['params'] == full['params'] == sum(p.numel()
                                                   for p in model.parameters())
    # the full model adds CCA and HTA; the classifiers / hints stay unused
    assert full['flops'] > base['flops']
    assert full['flops_per_frame'] == full['flops'] / T
    head = next(c for k, c in full['components'].items()
                if k.startswith('head'))
    assert 0 < head['params_inference'] < head['params']
    assert not full['unsupported_ops'], full['unsupported_ops']


def test_backbone_flops_match_counting_the_branch_alone():
    model = dcct_model()
    result = model_complexity(model, T, (H, W), 'base')
    model.eval()
    with torch.no_grad():
        alone = count(model.backbone.cnn, torch.randn(T, 3, H, W))
    assert result['components']['backbone.cnn (ResNet)']['flops'] == alone


def test_depth0_model():
    model = dcct_model(temporal=False)
    full = model_complexity(model, T, (H, W), 'all')
    assert 'temporal_neck' not in ''.join(full['components'])

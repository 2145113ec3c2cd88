"""VideoReID takes the input widths of its necks and head from the built
backbone when the config leaves them unset, and names every wrong one."""
import re

import pytest
import torch

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from mmdcct.utils import register_all_modules

register_all_modules()

RESNET = dict(
    type='mmpretrain.ResNet', depth=18, strides=(1, 2, 2, 1),
    out_indices=(3, ))
TINY_VIT = dict(
    type='mmpretrain.VisionTransformer',
    arch=dict(embed_dims=32, num_layers=1, num_heads=2,
              feedforward_channels=64),
    img_size=(64, 32),
    patch_size=16,
    out_type='raw')


def dcct(cnn=RESNET, **parts):
    """A tiny DCCT config without any width set."""
    cfg = dict(
        type='VideoReID',
        backbone=dict(type='CoupledBackbone', cnn=cnn, transformer=TINY_VIT),
        spatial_neck=dict(type='ComplementaryContentAttention'),
        temporal_neck=dict(
            type='HierarchicalTemporalAggregation', embed_dims=16, depth=1,
            num_heads=2, num_frames=2),
        head=dict(type='SelfDistillationHead', num_classes=4),
        test_cfg=dict(feature='all'))
    for name, value in parts.items():
        cfg[name] = value if value is None else dict(cfg[name], **value)
    return cfg


def test_unset_widths_come_from_the_backbone():
    model = MODELS.build(dcct())
    assert model.backbone.out_channels == (512, 32)
    assert model.spatial_neck.in_channels == (512, 32)
    assert model.temporal_neck.in_channels == (512, 32)
    head = model.head
    assert head.base_channels == head.spatial_channels == (512, 32)
    assert head.final_channels == 32  # HTA: 2 x embed_dims
    x = torch.randn(4, 2, 3, 64, 32)
    samples = [VideoReIDDataSample().set_gt_label(i // 2) for i in range(4)]
    losses = model(x, samples, mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())
    model.eval()
    with torch.no_grad():
        assert model(x, mode='tensor').shape == (4, 2 * (512 + 32) + 32)


def test_another_cnn_needs_no_other_key():
    model = MODELS.build(
        dcct(cnn=dict(type='mmpretrain.MobileNetV2', widen_factor=0.5)))
    assert model.spatial_neck.in_channels == (1280, 32)
    assert model.head.base_channels == (1280, 32)


def test_every_wrong_width_is_named_in_one_error():
    wrong = (2048, 768)
    cfg = dcct(
        spatial_neck=dict(in_channels=wrong),
        temporal_neck=dict(in_channels=wrong),
        head=dict(base_channels=wrong, spatial_channels=(512, 32),
                  final_channels=1024))
    with pytest.raises(ValueError) as err:
        MODELS.build(cfg)
    msg = str(err.value)
    assert '4 input width(s)' in msg
    assert 'cnn (ResNet) 512, transformer (VisionTransformer) 32' in msg
    for key, right in [('model.spatial_neck.in_channels', '(512, 32)'),
                       ('model.temporal_neck.in_channels', '(512, 32)'),
                       ('model.head.base_channels', '(512, 32)'),
                       ('model.head.final_channels', '32')]:
        assert re.search(re.escape(f'{key}={right}') + r'\s+\(the config has',
                         msg), key
    assert 'spatial_channels' not in msg  # that one is right


def test_right_explicit_widths_are_accepted():
    model = MODELS.build(
        dcct(spatial_neck=dict(in_channels=[512, 32]),
             head=dict(base_channels=(512, 32), final_channels=32)))
    assert model.head.base_channels == (512, 32)


def test_stages_the_model_lacks_get_no_width():
    # "+ CCA" (no temporal neck): no final feature, so no distillation
    model = MODELS.build(
        dcct(temporal_neck=None,
             head=dict(loss_ld=None, loss_fd=None),
             test_cfg=None))
    assert model.head.final_channels is None
    assert model.head.spatial_channels == (512, 32)
    # the Coupled baseline: one BN-neck head on the backbone widths
    cfg = dcct(spatial_neck=None, temporal_neck=None, test_cfg=None)
    cfg['head'] = dict(type='BNNeckHead', num_classes=4)
    assert MODELS.build(cfg).head.in_channels == (512, 32)


def test_single_backbone_head_width():
    model = MODELS.build(
        dict(
            type='VideoReID',
            backbone=dict(type='SingleBackbone', backbone=TINY_VIT),
            head=dict(type='BNNeckHead', num_classes=4)))
    assert model.head.in_channels == (32, )
    with pytest.raises(ValueError, match=r'model.head.in_channels=\(32,\)'):
        MODELS.build(
            dict(
                type='VideoReID',
                backbone=dict(type='SingleBackbone', backbone=TINY_VIT),
                head=dict(type='BNNeckHead', num_classes=4,
                          in_channels=(768, ))))

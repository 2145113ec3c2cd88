import pytest
import torch

from mmdcct.registry import MODELS
from mmdcct.utils import register_all_modules

register_all_modules()

TINY_VIT = dict(
    type='mmpretrain.VisionTransformer',
    arch=dict(embed_dims=32, num_layers=1, num_heads=2,
              feedforward_channels=64),
    img_size=(64, 32),
    patch_size=16,
    out_type='raw')


def build(**kwargs):
    cfg = dict(
        type='CoupledBackbone',
        cnn=dict(type='mmpretrain.ResNet', depth=18, strides=(1, 2, 2, 1),
                 out_indices=(3, )),
        transformer=TINY_VIT)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_local_and_global_features():
    backbone = build()
    backbone.eval()
    x = torch.randn(3, 3, 64, 32)
    (cnn_local, cnn_global), (trans_local, trans_global) = backbone(x)
    # ResNet-18 with last stride 1: 64x32 / 16 = 4x2 positions of 512 ch
    assert cnn_local.shape == (3, 8, 512)
    assert cnn_global.shape == (3, 512)
    assert torch.allclose(cnn_global, cnn_local.mean(1), atol=1e-6)
    # ViT: 4x2 patch tokens, the class token is the global feature
    assert trans_local.shape == (3, 8, 32)
    assert trans_global.shape == (3, 32)
    raw = backbone.transformer(x)[0]
    assert torch.equal(trans_global, raw[:, 0])
    assert torch.equal(trans_local, raw[:, 1:])


def test_avg_global_for_transformer():
    backbone = build(transformer_global='avg')
    backbone.eval()
    (_, _), (trans_local, trans_global) = backbone(torch.randn(2, 3, 64, 32))
    assert torch.allclose(trans_global, trans_local.mean(1), atol=1e-6)


def test_other_mmpretrain_backbones():
    backbone = build(
        cnn=dict(type='mmpretrain.MobileNetV2', out_indices=(7, ),
                 widen_factor=0.5),
        transformer=dict(
            type='mmpretrain.VisionTransformer', arch='deit-tiny',
            img_size=(64, 32), out_type='raw'))
    backbone.eval()
    (cnn_local, cnn_global), (trans_local, trans_global) = backbone(
        torch.randn(2, 3, 64, 32))
    assert cnn_local.shape[0] == 2 and cnn_local.shape[2] == 1280
    assert trans_global.shape == (2, 192)


def test_clear_errors():
    with pytest.raises(ValueError, match='transformer_global'):
        build(transformer_global='max')
    backbone = build(cnn_global='cls_token')
    with pytest.raises(ValueError, match='cls_token'):
        backbone(torch.randn(1, 3, 64, 32))
    vit_cls_only = dict(TINY_VIT, out_type='cls_token')
    backbone = build(transformer=vit_cls_only)
    with pytest.raises(ValueError, match="out_type='raw'"):
        backbone(torch.randn(1, 3, 64, 32))

import pytest
import torch

from mmdcct.models.backbones.coupled_backbone import probe_out_channels
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
# a 1-block timm ViT-Tiny (192 ch) on 64x32 frames with 8x8 patches: 8x4
# patch tokens after the prefix tokens
TIMM_VIT = dict(
    type='mmpretrain.TIMMBackbone',
    model_name='vit_tiny_patch16_224',
    pretrained=False,
    img_size=(64, 32),
    patch_size=8,
    depth=1)


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
    assert backbone.out_channels == (512, 32)
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
        cnn=dict(type='mmpretrain.MobileNetV2', widen_factor=0.5),
        transformer=dict(
            type='mmpretrain.VisionTransformer', arch='deit-tiny',
            img_size=(64, 32), out_type='raw'))
    assert backbone.out_channels == (1280, 192)
    backbone.eval()
    (cnn_local, cnn_global), (trans_local, trans_global) = backbone(
        torch.randn(2, 3, 64, 32))
    assert cnn_local.shape[0] == 2 and cnn_local.shape[2] == 1280
    assert trans_global.shape == (2, 192)


def test_clear_errors():
    with pytest.raises(ValueError, match='transformer_global'):
        build(transformer_global='max')
    # the build-time probe finds a missing class token ...
    with pytest.raises(ValueError,
                       match="cnn_global='cls_token'.*ResNet.*"
                       "cnn_global='avg'"):
        build(cnn_global='cls_token')
    # ... and a pooled output, with the switch of that backbone
    vit_cls_only = dict(TINY_VIT, out_type='cls_token')
    with pytest.raises(ValueError,
                       match=r"transformer branch \(VisionTransformer\).*"
                       r"2-D.*out_type='raw'"):
        build(transformer=vit_cls_only)


TINY_CONVNEXT = dict(
    type='mmpretrain.ConvNeXt',
    arch=dict(depths=[1, 1, 1, 1], channels=[8, 16, 32, 64]))
TINY_SWIN = dict(
    type='mmpretrain.SwinTransformer',
    arch=dict(embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1]),
    img_size=(64, 32))


@pytest.mark.parametrize(
    'slot, branch, hint',
    [
        # pools by default: the fix is gap_before_final_norm, not out_type
        ('cnn', TINY_CONVNEXT, r'ConvNeXt: set gap_before_final_norm=False'),
        # a 2x1 last stage is smaller than the 7x7 window
        ('transformer', TINY_SWIN, r'pad_small_map=True'),
        # timm's distilled DeiT averages its class and distillation tokens
        ('transformer',
         dict(TIMM_VIT, model_name='deit_tiny_distilled_patch16_224'),
         r'TIMMBackbone.*features_only=True'),
    ],
    ids=['convnext', 'swin', 'timm-distilled'])
def test_backbone_specific_hints(slot, branch, hint):
    with pytest.raises(ValueError, match=hint) as err:
        build(**{slot: branch})
    assert "out_type='raw'" not in str(err.value)  # not ViT's switch


def test_hinted_switches_fix_the_branch():
    backbone = build(
        cnn=dict(TINY_CONVNEXT, gap_before_final_norm=False),
        transformer=dict(TINY_SWIN, pad_small_map=True))
    # Swin has no class token: 'auto' (the default) takes the GAP
    assert backbone.out_channels == (64, 128)
    backbone.eval()
    _, (local, glob) = backbone(torch.randn(1, 3, 64, 32))
    assert torch.allclose(glob, local.mean(1), atol=1e-6)
    with pytest.raises(ValueError, match="transformer_global='cls_token'"):
        build(transformer=dict(TINY_SWIN, pad_small_map=True),
              transformer_global='cls_token')


@pytest.mark.parametrize(
    'extra, num_prefix, has_cls',
    [
        (dict(), 1, True),  # class token
        (dict(reg_tokens=4), 5, True),  # class token + 4 register tokens
        (dict(reg_tokens=4, class_token=False, global_pool='avg'), 4, False),
    ],
    ids=['cls', 'cls+reg4', 'reg4-no-cls'])
def test_timm_prefix_tokens_are_not_patch_tokens(extra, num_prefix, has_cls):
    torch.manual_seed(0)
    backbone = build(transformer=dict(TIMM_VIT, **extra))
    assert backbone.transformer.timm_model.num_prefix_tokens == num_prefix
    assert backbone.out_channels == (512, 192)
    backbone.eval()
    x = torch.randn(2, 3, 64, 32)
    raw = backbone.transformer(x)[0]
    assert raw.shape == (2, num_prefix + 32, 192)
    _, (local, glob) = backbone(x)
    assert local.shape == (2, 32, 192)  # the 8x4 patch tokens only
    assert torch.equal(local, raw[:, num_prefix:])
    if has_cls:  # 'auto' takes the class token
        assert torch.equal(glob, raw[:, 0])
    else:  # no class token: the GAP of the patch tokens, not of the prefix
        assert torch.allclose(glob, raw[:, num_prefix:].mean(1), atol=1e-6)
        with pytest.raises(ValueError, match='no class token'):
            build(transformer=dict(TIMM_VIT, **extra),
                  transformer_global='cls_token')
    _, (_, avg) = build(transformer=dict(TIMM_VIT, **extra),
                        transformer_global='avg').eval()(x)
    assert avg.shape == (2, 192)


def test_timm_nhwc_output_is_read_as_a_map():
    # timm's Swin returns (N, H, W, C) (output_fmt='NHWC')
    swin = dict(
        type='mmpretrain.TIMMBackbone',
        model_name='swin_tiny_patch4_window7_224',
        pretrained=False,
        embed_dim=16,
        depths=(1, 1, 1, 1),
        num_heads=(1, 1, 1, 1))
    backbone = build(transformer=swin, input_size=(224, 224))
    assert backbone.out_channels == (512, 128)
    backbone.eval()
    x = torch.randn(1, 3, 224, 224)
    raw = backbone.transformer(x)[0]
    assert raw.shape == (1, 7, 7, 128)
    _, (local, glob) = backbone(x)
    assert torch.equal(local, raw.flatten(1, 2))
    assert torch.allclose(glob, raw.mean((1, 2)), atol=1e-6)


def test_probe_keeps_rng_bn_and_training_flags():
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
        torch.nn.Dropout(0.5), torch.nn.Conv2d(4, 6, 1))
    # BN and dropout in training mode would update the running statistics
    # and draw random numbers; one submodule kept in eval mode (as a frozen
    # stage) must stay so, the others in training mode
    model[3].eval()
    model[1].running_mean.fill_(0.5)
    bn_state = {k: v.clone() for k, v in model[1].state_dict().items()}
    flags = [m.training for m in model.modules()]
    torch.manual_seed(0)
    rng = torch.get_rng_state()
    assert probe_out_channels(
        'Test', [('cnn', model, 'avg')], input_size=(8, 8)) == (6, )
    assert torch.equal(torch.get_rng_state(), rng)
    assert [m.training for m in model.modules()] == flags
    for k, v in model[1].state_dict().items():
        assert torch.equal(v, bn_state[k]), k


def test_frames_of_another_size_than_a_timm_vit_takes():
    backbone = build(transformer=TIMM_VIT).eval()  # built for 64x32
    with pytest.raises(ValueError,
                       match=r'transformer branch \(TIMMBackbone\) fails on '
                       r'128x64 frames.*img_size=\(H, W\)'):
        backbone(torch.randn(1, 3, 128, 64))

"""SingleBackbone: one branch with the CoupledBackbone output contract, and
the single-branch baseline model built on it (Tab. IV / Tab. V rows)."""
import pytest
import torch

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from mmdcct.utils import register_all_modules

register_all_modules()

RESNET = dict(
    type='mmpretrain.ResNet',
    depth=18,
    strides=(1, 2, 2, 1),
    out_indices=(3, ))
TINY_VIT = dict(
    type='mmpretrain.VisionTransformer',
    arch=dict(
        embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64),
    img_size=(64, 32),
    patch_size=16,
    out_type='raw')


def test_cnn_branch_avg_global():
    backbone = MODELS.build(dict(type='SingleBackbone', backbone=RESNET))
    backbone.eval()
    out = backbone(torch.randn(3, 3, 64, 32))
    assert isinstance(out, tuple) and len(out) == 1
    local, glob = out[0]
    assert local.shape == (3, 8, 512)  # 4x2 positions (last stride 1)
    assert torch.allclose(glob, local.mean(1), atol=1e-6)


def test_transformer_branch_cls_token_matches_coupled_branch():
    torch.manual_seed(0)
    single = MODELS.build(
        dict(
            type='SingleBackbone', backbone=TINY_VIT, global_type='cls_token'))
    coupled = MODELS.build(
        dict(type='CoupledBackbone', cnn=RESNET, transformer=TINY_VIT))
    coupled.transformer.load_state_dict(single.backbone.state_dict())
    single.eval()
    coupled.eval()
    x = torch.randn(2, 3, 64, 32)
    (local, glob), = single(x)
    _, (c_local, c_glob) = coupled(x)
    assert torch.equal(local, c_local) and torch.equal(glob, c_glob)
    assert local.shape == (2, 8, 32) and glob.shape == (2, 32)


def test_errors():
    with pytest.raises(ValueError, match='global_type'):
        MODELS.build(
            dict(type='SingleBackbone', backbone=RESNET, global_type='max'))
    # found when built, by the probe
    with pytest.raises(ValueError,
                       match="SingleBackbone: global_type='cls_token'.*"
                       "class token.*global_type='avg'"):
        MODELS.build(
            dict(type='SingleBackbone', backbone=RESNET,
                 global_type='cls_token'))


def test_out_channels_probed():
    assert MODELS.build(dict(type='SingleBackbone',
                             backbone=RESNET)).out_channels == (512, )
    assert MODELS.build(dict(type='SingleBackbone',
                             backbone=TINY_VIT)).out_channels == (32, )


def test_single_branch_baseline_model():
    model = MODELS.build(
        dict(
            type='VideoReID',
            backbone=dict(type='SingleBackbone', backbone=RESNET),
            head=dict(
                type='BNNeckHead', num_classes=3, in_channels=(512, ))))
    x = torch.randn(4, 3, 3, 64, 32)
    samples = [VideoReIDDataSample().set_gt_label(i // 2) for i in range(4)]
    losses = model(x, samples, mode='loss')
    assert set(losses) == {'loss_ce_video', 'loss_tri_video'}
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        assert model(x, mode='tensor').shape == (4, 512)  # base
        model.test_cfg['feature'] = 'all'
        assert model(x, mode='tensor').shape == (4, 1024)  # base + BN-neck

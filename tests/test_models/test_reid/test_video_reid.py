import pytest
import torch

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from mmdcct.utils import register_all_modules

register_all_modules()

CNN = dict(type='mmpretrain.ResNet', depth=18, strides=(1, 2, 2, 1),
           out_indices=(3, ))
VIT = dict(
    type='mmpretrain.VisionTransformer',
    arch=dict(embed_dims=32, num_layers=1, num_heads=2,
              feedforward_channels=64),
    img_size=(64, 32),
    patch_size=16,
    out_type='raw')


def coupled_model(**kwargs):
    cfg = dict(
        type='VideoReID',
        backbone=dict(type='CoupledBackbone', cnn=CNN, transformer=VIT),
        head=dict(type='VideoReIDHead', num_classes=5, in_channels=(512, 32)))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def batch(num_tracklets=4, num_frames=3, num_clips=1):
    inputs = [
        torch.randint(0, 255, (num_clips * num_frames, 3, 64, 32),
                      dtype=torch.uint8) for _ in range(num_tracklets)
    ]
    samples = [
        VideoReIDDataSample(metainfo=dict(num_clips=num_clips))
        .set_gt_label(i // 2) for i in range(num_tracklets)
    ]
    return dict(inputs=inputs, data_samples=samples)


def test_loss_mode_returns_named_finite_losses():
    model = coupled_model()
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_ce_video', 'loss_tri_video'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.backbone.cnn.conv1.weight.grad is not None
    assert model.backbone.transformer.cls_token.grad is not None


def test_predict_base_feature_is_concat_of_tap_globals():
    model = coupled_model()
    model.eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
        frames = data['inputs'].flatten(0, 1)
        (_, cnn_global), (_, trans_global) = model.backbone(frames)
    assert len(out) == 4
    assert all(ds.pred_feature.shape == (512 + 32, ) for ds in out)
    expected = torch.cat([
        cnn_global.view(4, 3, -1).mean(1),
        trans_global.view(4, 3, -1).mean(1)
    ], 1)
    got = torch.stack([ds.pred_feature for ds in out])
    assert torch.allclose(got, expected, atol=1e-5)


def test_tensor_mode_and_all_feature():
    model = coupled_model(test_cfg=dict(feature='all'))
    model.eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        feats = model(**data, mode='tensor')
    # base (544) + BN-neck video features of the baseline head (544)
    assert feats.shape == (4, 2 * 544)


def test_multi_clip_features_are_averaged_in_bounded_chunks():
    model = coupled_model(test_cfg=dict(max_clips_per_forward=2))
    model.eval()
    data = model.data_preprocessor(batch(num_tracklets=2, num_clips=3), False)
    calls = []
    model.backbone.register_forward_hook(
        lambda m, args, out: calls.append(args[0].shape[0]))
    with torch.no_grad():
        feats = model(**data, mode='tensor')
        clips = data['inputs'].view(6, 3, 3, 64, 32)
        per_clip = torch.cat([
            model(clips[i:i + 1], mode='tensor') for i in range(6)])
    assert feats.shape == (2, 544)
    assert max(calls[:3]) <= 2 * 3  # at most 2 clips of 3 frames per call
    assert torch.allclose(feats, per_clip.view(2, 3, -1).mean(1), atol=1e-5)


def test_dense_batch_with_different_clip_counts():
    model = coupled_model(test_cfg=dict(max_clips_per_forward=2))
    model.eval()
    short, long = batch(1, num_clips=1), batch(1, num_clips=3)
    data = dict(inputs=short['inputs'] + long['inputs'],
                data_samples=short['data_samples'] + long['data_samples'])
    with torch.no_grad():
        feats = model(**model.data_preprocessor(data, False), mode='tensor')
        alone = [
            model(**model.data_preprocessor(b, False), mode='tensor')
            for b in (short, long)
        ]
    assert feats.shape == (2, 544)
    assert torch.allclose(feats, torch.cat(alone), atol=1e-5)


def test_bad_configuration_errors():
    with pytest.raises(ValueError, match='test_cfg.feature'):
        coupled_model(test_cfg=dict(feature='everything'))
    model = coupled_model(head=None)
    data = model.data_preprocessor(batch(), True)
    with pytest.raises(ValueError, match='head'):
        model(**data, mode='loss')
    with pytest.raises(RuntimeError, match='Invalid mode'):
        model(**data, mode='train')

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
        head=dict(type='BNNeckHead', num_classes=5, in_channels=(512, 32)))
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


@pytest.mark.parametrize('feature, missing', [('spatial', 'spatial'),
                                              ('final', 'final'),
                                              ('base+final', 'final'),
                                              (['spatial', 'base'],
                                               'spatial')])
def test_feature_the_model_cannot_produce_fails_at_build(feature, missing):
    # the Coupled baseline has no necks: no 'spatial' / 'final' stage (it
    # used to return its BN-neck feature for them)
    with pytest.raises(ValueError) as err:
        coupled_model(test_cfg=dict(feature=feature))
    msg = str(err.value)
    assert f'test_cfg.feature={feature!r}' in msg
    assert f"'{missing}' stage" in msg
    assert 'spatial_neck=None' in msg and 'temporal_neck=None' in msg
    assert "stages ('base',)" in msg and "'all'" in msg


def test_feature_changed_after_build_fails_at_predict():
    model = coupled_model()
    model.eval()
    data = model.data_preprocessor(batch(), False)
    model.test_cfg['feature'] = 'final'
    with pytest.raises(ValueError, match=r"test_cfg.feature='final'.*"
                       r'temporal neck'):
        with torch.no_grad():
            model(**data, mode='tensor')


@pytest.mark.parametrize('feature', [
    'everything', 'base+base', 'base+', '', ['base', 'all'], [], 'bnneck',
    'base_bnneck', 'frame', 'video'
])
def test_bad_feature_names(feature):
    with pytest.raises(ValueError, match="joined by '\\+'"):
        coupled_model(test_cfg=dict(feature=feature))


def test_parse_feature_orders_stages():
    from mmdcct.models.reid.video_reid import parse_feature
    assert parse_feature('all') == ('all', )
    assert parse_feature('final+base') == ('base', 'final')
    assert parse_feature(['final', 'spatial', 'base']) == ('base', 'spatial',
                                                           'final')
    assert parse_feature('spatial') == ('spatial', )


def test_all_of_a_neckless_model_is_base_and_its_bnneck_feature():
    model = coupled_model(test_cfg=dict(feature='all'))
    assert model.resolve_test_stages() == ('base', 'base_bnneck')
    model.eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        full = model(**data, mode='tensor')
        feats = model.extract_feat(data['inputs'])
        bnneck = model.head.predict(feats, ['base'])['base']
    assert list(feats) == ['base', 'spatial', 'final']
    assert feats['spatial'] is None and feats['final'] is None
    torch.testing.assert_close(full[:, 544:], torch.cat(bnneck, 1))


def test_branch_selects_one_branch_of_the_base_feature():
    model = coupled_model(test_cfg=dict(feature='all'))
    model.eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        full = model(**data, mode='tensor')  # [base 544 | BN-neck 544]
        model.test_cfg['branch'] = 'transformer'
        vit = model(**data, mode='tensor')
        model.test_cfg['feature'] = 'base'
        vit_base = model(**data, mode='tensor')
    torch.testing.assert_close(vit, torch.cat([full[:, 512:544],
                                               full[:, 1056:]], 1))
    torch.testing.assert_close(vit_base, full[:, 512:544])
    with pytest.raises(ValueError, match="test_cfg.branch must be"):
        coupled_model(test_cfg=dict(branch='vit'))


def test_baseline_head_supervised_per_frame():
    model = coupled_model(
        head=dict(type='BNNeckHead', num_classes=5, in_channels=(512, 32),
                  supervision='frame', freeze_bias=(False, True)))
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_ce_frame', 'loss_tri_frame'}
    sum(losses.values()).backward()
    cnn_neck, vit_neck = model.head.necks
    assert cnn_neck.bn.bias.requires_grad and cnn_neck.bn.bias.grad is not None
    assert not vit_neck.bn.bias.requires_grad


def test_all_without_a_head_fails_at_build():
    with pytest.raises(ValueError, match=r"'all' needs a head.*head=None"):
        coupled_model(head=None, test_cfg=dict(feature='all'))

"""The full DCCT model (the demo config): the four test-feature modes, the
'base' mode running the backbones only, the losses, and every ablation
switch of configs/dcct/ablations applied at demo scale."""
import os.path as osp
from typing import Callable, Dict

import pytest
import torch
from mmengine.config import Config

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from mmdcct.utils import register_all_modules

register_all_modules()

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
DEMO = osp.join(REPO, 'configs/dcct/dcct_demo.py')
NUM_TRACKLETS, NUM_FRAMES, HEIGHT, WIDTH = 4, 4, 64, 32
CNN, VIT, VIDEO = 512, 192, 256  # demo widths: ResNet-18, ViT, HTA's 2D


def demo_cfg() -> Config:
    return Config.fromfile(DEMO)


def build(cfg: Config) -> torch.nn.Module:
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def inputs(num_tracklets: int = NUM_TRACKLETS) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.randn(num_tracklets, NUM_FRAMES, 3, HEIGHT, WIDTH)


def samples(num_tracklets: int = NUM_TRACKLETS):
    # 2 identities x 2 tracklets: the triplet terms have positives
    return [
        VideoReIDDataSample().set_gt_label(i // 2)
        for i in range(num_tracklets)
    ]


@pytest.fixture(scope='module')
def model():
    model = build(demo_cfg())
    model.eval()
    return model


def features(model, feature: str) -> torch.Tensor:
    old = model.test_cfg['feature']
    model.test_cfg['feature'] = feature
    try:
        with torch.no_grad():
            return model(inputs(), mode='tensor')
    finally:
        model.test_cfg['feature'] = old


def test_demo_config_is_the_full_dcct_structure(model):
    assert type(model.backbone).__name__ == 'CoupledBackbone'
    assert type(
        model.spatial_neck).__name__ == ('ComplementaryContentAttention')
    assert type(
        model.temporal_neck).__name__ == ('HierarchicalTemporalAggregation')
    assert type(model.head).__name__ == 'SelfDistillationHead'
    assert model.temporal_neck.num_frames == NUM_FRAMES
    assert model.temporal_neck.depth == 2
    assert model.temporal_neck.ga_cnn is not None
    assert type(model.head.loss_ld).__name__ == 'LogitDistillationLoss'
    assert type(model.head.loss_fd).__name__ == 'FeatureDistillationLoss'
    assert model.test_cfg['feature'] == 'all'


@pytest.mark.parametrize('feature, width', [
    ('base', CNN + VIT),
    ('spatial', CNN + VIT),
    ('final', VIDEO),
    ('all', 2 * (CNN + VIT) + VIDEO),
])
def test_feature_modes_shapes(model, feature, width):
    feats = features(model, feature)
    assert feats.shape == (NUM_TRACKLETS, width)
    assert torch.isfinite(feats).all()


def test_all_is_base_spatial_final_concatenated(model):
    parts = [features(model, f) for f in ('base', 'spatial', 'final')]
    assert torch.allclose(
        features(model, 'all'), torch.cat(parts, dim=1), atol=1e-5)


def _count_calls(model) -> Dict[str, int]:
    """Count forward calls of every neck / head submodule and head.predict."""
    calls = dict(spatial_neck=0, temporal_neck=0, head=0, backbone=0)

    def hook(name: str) -> Callable:

        def _hook(module, args, output):
            calls[name] += 1

        return _hook

    handles = []
    for name in calls:
        for module in getattr(model, name).modules():
            handles.append(module.register_forward_hook(hook(name)))
    predict = model.head.predict

    def counting_predict(*args, **kwargs):
        calls['head'] += 1
        return predict(*args, **kwargs)

    model.head.predict = counting_predict
    return calls, handles


@pytest.mark.parametrize('feature, runs_necks', [('base', False),
                                                 ('spatial', True),
                                                 ('final', True),
                                                 ('all', True)])
def test_base_mode_runs_the_backbones_only(model, feature, runs_necks):
    calls, handles = _count_calls(model)
    try:
        features(model, feature)
    finally:
        for handle in handles:
            handle.remove()
        del model.head.predict  # back to the class method
    assert calls['backbone'] > 0
    if runs_necks:
        assert calls['spatial_neck'] > 0 and calls['temporal_neck'] > 0
        assert calls['head'] > 0
    else:
        assert calls['spatial_neck'] == 0
        assert calls['temporal_neck'] == 0
        assert calls['head'] == 0


def test_base_mode_equals_the_time_averaged_backbone_globals(model):
    with torch.no_grad():
        frames = inputs().flatten(0, 1)
        (_, g_cnn), (_, g_vit) = model.backbone(frames)
    expected = torch.cat([
        g_cnn.view(NUM_TRACKLETS, NUM_FRAMES, -1).mean(1),
        g_vit.view(NUM_TRACKLETS, NUM_FRAMES, -1).mean(1)
    ], 1)
    assert torch.allclose(features(model, 'base'), expected, atol=1e-5)


def test_training_losses_are_separate_finite_and_backpropagate():
    model = build(demo_cfg())
    model.train()
    losses = model(inputs(), samples(), mode='loss')
    assert set(losses) == {
        'loss_ce_frame', 'loss_tri_frame', 'loss_ce_video', 'loss_tri_video',
        'loss_ld', 'loss_fd'
    }
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.backbone.cnn.conv1.weight.grad is not None
    assert model.backbone.transformer.cls_token.grad is not None
    assert model.spatial_neck.cnn_branch.mlp[0].weight.grad is not None
    assert model.temporal_neck.align_cnn.weight.grad is not None
    assert model.head.hints[0].weight.grad is not None


# --------------------------------------------------------------------------
# the ablation switches (configs/dcct/ablations) at demo scale
# --------------------------------------------------------------------------
def _no_kd(cfg):
    cfg.model.head.loss_ld = None
    cfg.model.head.loss_fd = None


def _depth0(cfg):  # Tab. V "+ CCA" / Fig. 5 depth 0
    cfg.model.temporal_neck = None
    cfg.model.head.final_channels = None
    cfg.model.head.final_loss = False
    _no_kd(cfg)


def _set(**kwargs):

    def apply(cfg):
        for key, value in kwargs.items():
            section, _, attr = key.partition('__')
            cfg.model[section][attr] = value

    return apply


def _chain(*fns):

    def apply(cfg):
        for fn in fns:
            fn(cfg)

    return apply


def _sap(cfg):  # Tab. VIII SAP + HTA
    cfg.model.spatial_neck = dict(
        type='SpatialAttentionPooling', in_channels=(CNN, VIT))
    _no_kd(cfg)


def _lstm(cfg):  # Tab. VIII CCA + LSTM
    cfg.model.temporal_neck = dict(
        type='LSTMTemporalAggregation',
        in_channels=(CNN, VIT),
        embed_dims=VIDEO // 2,
        num_frames=NUM_FRAMES)
    _no_kd(cfg)


KD = {'loss_ld', 'loss_fd'}
TWO_STAGE = {
    'loss_ce_frame', 'loss_tri_frame', 'loss_ce_video', 'loss_tri_video'
}

ABLATIONS = {
    'cca (depth 0)': (_depth0, TWO_STAGE, CNN + VIT),
    'cca-hta (no KD)': (_no_kd, TWO_STAGE, VIDEO),
    'nosh-r50': (_chain(_depth0, _set(spatial_neck__self_head=(False, True))),
                 TWO_STAGE, CNN + VIT),
    'nosh-vit': (_chain(_depth0, _set(spatial_neck__self_head=(True, False))),
                 TWO_STAGE, CNN + VIT),
    'noch-r50': (_chain(_depth0,
                        _set(spatial_neck__cross_head=(False, True))),
                 TWO_STAGE, CNN + VIT),
    'noch-vit': (_chain(_depth0,
                        _set(spatial_neck__cross_head=(True, False))),
                 TWO_STAGE, CNN + VIT),
    'depth1 tt': (_chain(
        _no_kd,
        _set(
            temporal_neck__depth=1,
            temporal_neck__aggregate_transformer=False,
            temporal_neck__gated_attention=False)), TWO_STAGE, VIDEO),
    'depth1 tt-at': (_chain(
        _no_kd,
        _set(temporal_neck__depth=1, temporal_neck__gated_attention=False)),
                     TWO_STAGE, VIDEO),
    'depth1 tt-at-ga': (_chain(
        _no_kd,
        _set(temporal_neck__depth=1, temporal_neck__first_layer_gate=True)),
                        TWO_STAGE, VIDEO),
    'depth4': (_chain(_no_kd, _set(temporal_neck__depth=4)), TWO_STAGE, VIDEO),
    'sap-hta': (_sap, TWO_STAGE, VIDEO),
    'cca-lstm': (_lstm, TWO_STAGE, VIDEO),
    'ld only': (_set(head__loss_fd=None), TWO_STAGE | {'loss_ld'}, VIDEO),
    'fd only': (_set(head__loss_ld=None), TWO_STAGE | {'loss_fd'}, VIDEO),
}


@pytest.mark.parametrize('name', list(ABLATIONS))
def test_ablation_variants_train_and_test(name):
    modify, loss_keys, final_width = ABLATIONS[name]
    cfg = demo_cfg()
    modify(cfg)
    model = build(cfg)
    model.train()
    losses = model(inputs(), samples(), mode='loss')
    assert set(losses) == loss_keys
    sum(losses.values()).backward()
    model.eval()
    base = features(model, 'base')
    assert base.shape == (NUM_TRACKLETS, CNN + VIT)
    last = 'final' if model.temporal_neck is not None else 'spatial'
    assert features(model, last).shape == (NUM_TRACKLETS, final_width)
    width = 2 * (CNN + VIT) + (VIDEO if model.temporal_neck is not None else 0)
    assert features(model, 'all').shape == (NUM_TRACKLETS, width)


def test_depth0_has_no_final_feature():
    cfg = demo_cfg()
    _depth0(cfg)
    model = build(cfg)
    model.eval()
    assert model.temporal_neck is None and model.head.video_neck is None
    with pytest.raises(ValueError, match='final'):
        features(model, 'final')
    # LD / FD need f: asking for them without HTA is a configuration error
    cfg.model.head.loss_fd = dict(type='FeatureDistillationLoss')
    with pytest.raises(ValueError, match='final_channels'):
        build(cfg)


def test_base_plus_final_is_base_and_final_concatenated(model):
    """Fig. 6's test feature; '+'-joined or a list, stages in fixed order."""
    base, final = features(model, 'base'), features(model, 'final')
    expected = torch.cat([base, final], dim=1)
    for feature in ('base+final', 'final+base', ['final', 'base']):
        torch.testing.assert_close(features(model, feature), expected)
    torch.testing.assert_close(
        features(model, 'base+spatial+final'), features(model, 'all'))


def test_branch_keeps_one_branch_of_base_and_spatial(model):
    full = features(model, 'base+spatial')  # [base cnn|vit, spatial cnn|vit]
    model.test_cfg['branch'] = 'cnn'
    try:
        cnn = features(model, 'base+spatial')
        with pytest.raises(ValueError, match="includes 'final'"):
            features(model, 'all')
    finally:
        model.test_cfg['branch'] = None
    width = CNN + VIT
    torch.testing.assert_close(
        cnn, torch.cat([full[:, :CNN], full[:, width:width + CNN]], dim=1))


def test_tab6_configs_test_one_branch_of_the_spatial_feature():
    cfg = demo_cfg()
    _depth0(cfg)
    cfg.model.spatial_neck.self_head = (False, True)  # - SH in the CNN
    cfg.model.test_cfg = dict(feature='spatial', branch='cnn')
    model = build(cfg)
    model.eval()
    assert model.spatial_neck.cnn_branch.v_cross.out_features == CNN
    assert features(model, 'spatial').shape == (NUM_TRACKLETS, CNN)


def test_depth0_final_feature_fails_at_build():
    cfg = demo_cfg()
    _depth0(cfg)
    cfg.model.test_cfg = dict(feature='base+final')
    with pytest.raises(ValueError, match=r"'final' stage.*temporal_neck="
                       r"None.*stages \('base', 'spatial'\)"):
        build(cfg)


@pytest.mark.parametrize('feature, head_stages', [
    ('base', None),
    ('spatial', ['spatial']),
    ('base+final', ['final']),
    ('all', ['spatial', 'final']),
])
def test_one_head_call_assembles_every_mode(model, feature, head_stages):
    """The head's BN-neck features of all stages come from one predict call
    per chunk of clips; the 'base' stage needs no head."""
    seen = []
    predict = model.head.predict

    def recording_predict(feats, stages):
        seen.append(list(stages))
        return predict(feats, stages)

    model.head.predict = recording_predict
    try:
        features(model, feature)
    finally:
        del model.head.predict
    assert seen == ([] if head_stages is None else [head_stages])

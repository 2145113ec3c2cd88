"""SelfDistillationHead: DCCT's two-stage supervision and LD / FD, the
per-stage BN-neck test features and the deprecated argument names."""
import warnings

import pytest
import torch

from mmdcct.models.heads.self_distillation_head import SelfDistillationHead
from mmdcct.models.necks import (ComplementaryContentAttention,
                                 HierarchicalTemporalAggregation)
from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample

C1, C2, DV, K, B, T = 32, 24, 16, 5, 8, 4
ALL_KEYS = {
    'loss_ce_frame', 'loss_tri_frame', 'loss_ce_video', 'loss_tri_video',
    'loss_ld', 'loss_fd'
}


def _samples(b=B):
    labels = torch.arange(b) // 2  # P x K = (b/2) x 2
    return [VideoReIDDataSample().set_gt_label(int(i)) for i in labels]


def _feats(requires_grad=False, spatial=True, final=True):
    base = (torch.randn(B, T, C1, requires_grad=requires_grad),
            torch.randn(B, T, C2, requires_grad=requires_grad))
    sp = (torch.randn(B, T, C1, requires_grad=requires_grad),
          torch.randn(B, T, C2, requires_grad=requires_grad)) if spatial \
        else None
    f = torch.randn(B, DV, requires_grad=requires_grad) if final else None
    return dict(base=base, spatial=sp, final=f)


def _head(**kwargs):
    cfg = dict(
        type='SelfDistillationHead',
        num_classes=K,
        base_channels=(C1, C2),
        spatial_channels=(C1, C2),
        final_channels=DV)
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('mode', ['l2', 'mse'])
def test_all_losses_present_and_finite(mode):
    head = _head(loss_fd=dict(type='FeatureDistillationLoss', mode=mode))
    assert isinstance(head, SelfDistillationHead)
    feats = _feats(requires_grad=True)
    losses = head.loss(feats, _samples())
    assert set(losses) == ALL_KEYS
    for key, value in losses.items():
        assert value.dim() == 0 and torch.isfinite(value), key
    sum(losses.values()).backward()
    assert feats['base'][0].grad is not None
    assert feats['spatial'][1].grad is not None
    assert feats['final'].grad is not None  # through the video CE/triplet


def test_disabled_and_absent_keys():
    losses = _head(loss_ld=None, loss_fd=None).loss(_feats(), _samples())
    assert set(losses) == ALL_KEYS - {'loss_ld', 'loss_fd'}
    losses = _head(base_loss=False).loss(_feats(), _samples())
    assert set(losses) == ALL_KEYS - {'loss_ce_frame', 'loss_tri_frame'}
    losses = _head(loss_triplet=None).loss(_feats(), _samples())
    assert set(losses) == ALL_KEYS - {'loss_tri_frame', 'loss_tri_video'}
    # no temporal neck: no final feature, no distillation
    head = _head(final_channels=None, loss_ld=None, loss_fd=None)
    losses = head.loss(_feats(final=False), _samples())
    assert set(losses) == {'loss_ce_frame', 'loss_tri_frame',
                           'loss_ce_video', 'loss_tri_video'}
    losses = _head().loss(_feats(spatial=False, final=False), _samples())
    assert set(losses) == {'loss_ce_frame', 'loss_tri_frame'}


def test_distillation_requires_final_channels():
    with pytest.raises(ValueError, match='final_channels'):
        _head(final_channels=None)


def _manual_losses(head, feats, labels):
    """The losses written out by hand, as the authors' code: LD and FD
    summed over the two branches, CE / triplet averaged."""
    ce = torch.nn.functional.cross_entropy
    tri = head.loss_triplet
    frame_ce, frame_tri, frame_logits = [], [], []
    for neck, g in zip(head.frame_necks, feats['base']):
        bn, logits = neck(g.reshape(B * T, -1))
        frame_logits.append(logits)
        frame_ce.append(ce(logits, labels.repeat_interleave(T)))
        bn = bn.view(B, T, -1)
        frame_tri.append(
            sum(tri(bn[:, t], labels) for t in range(T)) / T)
    video = [
        neck(y.mean(1))
        for neck, y in zip(head.spatial_necks, feats['spatial'])
    ]
    video.append(head.video_neck(feats['final']))
    zf = video[-1][1].detach()
    tau = 0.3
    p_f = torch.softmax(zf / tau, 1).repeat_interleave(T, 0)
    kl_cnn, kl_vit = ((p_f * (p_f.log() - torch.log_softmax(z / tau, 1))
                       ).sum() / (B * T) for z in frame_logits)
    ld = kl_cnn + kl_vit
    f = feats['final'].detach().repeat_interleave(T, 0)
    fd = sum(
        torch.sqrt(((h(g.reshape(B * T, -1)) - f)**2).sum())
        for h, g in zip(head.hints, feats['base']))
    return dict(
        loss_ce_frame=(frame_ce[0] + frame_ce[1]) / 2,
        loss_tri_frame=(frame_tri[0] + frame_tri[1]) / 2,
        loss_ce_video=sum(ce(z, labels) for _, z in video) / 3,
        loss_tri_video=sum(tri(bn, labels) for bn, _ in video) / 3,
        loss_ld=0.1 * ld,
        loss_fd=0.1 * fd)


def test_losses_match_spec():
    torch.manual_seed(0)
    head = _head()
    head.init_weights()
    head.eval()  # fixed BN statistics: both computations see the same BN
    feats = _feats()
    samples = _samples()
    labels = torch.cat([ds.gt_label for ds in samples])
    losses = head.loss(feats, samples)
    expected = _manual_losses(head, feats, labels)
    for key in ALL_KEYS:
        torch.testing.assert_close(losses[key], expected[key], msg=key)


def test_branch_reduction_mean_option():
    """'mean' halves the two-branch sum of LD and FD; the default is sum."""
    torch.manual_seed(0)
    head = _head()
    assert head.loss_ld.branch_reduction == 'sum'
    assert head.loss_fd.branch_reduction == 'sum'
    head.eval()
    feats = _feats()
    summed = head.loss(feats, _samples())
    head.loss_ld.branch_reduction = 'mean'
    head.loss_fd.branch_reduction = 'mean'
    mean = head.loss(feats, _samples())
    for key in ('loss_ld', 'loss_fd'):
        assert summed[key] > 0
        torch.testing.assert_close(mean[key], summed[key] / 2, msg=key)
    built = _head(
        loss_ld=dict(type='LogitDistillationLoss', branch_reduction='mean'),
        loss_fd=dict(type='FeatureDistillationLoss', branch_reduction='mean'))
    assert built.loss_ld.branch_reduction == 'mean'
    assert built.loss_fd.branch_reduction == 'mean'
    with pytest.raises(ValueError, match="'sum' or 'mean'"):
        _head(loss_ld=dict(type='LogitDistillationLoss',
                           branch_reduction='max'))


def test_ld_options():
    head = _head(
        loss_ld=dict(type='LogitDistillationLoss', loss_weight=1.0, tau=0.5,
                     tau_square=True),
        loss_fd=None)
    head.eval()
    feats = _feats()
    loss = head.loss(feats, _samples())['loss_ld']
    head.loss_ld.tau_square = False
    plain = head.loss(feats, _samples())['loss_ld']
    torch.testing.assert_close(loss, plain * 0.25)
    with pytest.raises(TypeError, match='temperature'):
        _head(loss_ld=dict(type='LogitDistillationLoss', temperature=2.0))
    with pytest.raises(ValueError, match="'l2' or 'mse'"):
        _head(loss_fd=dict(type='FeatureDistillationLoss', mode='l1'))


def test_old_keys_merged_into_a_typed_dict_are_mapped():
    """``--cfg-options model.head.loss_ld.weight=1`` over a typed base."""
    with pytest.warns(FutureWarning, match='loss_ld.loss_weight instead'):
        head = _head(loss_ld=dict(type='LogitDistillationLoss',
                                  loss_weight=0.1, tau=0.3, weight=1.0))
    assert head.loss_ld.loss_weight == 1.0 and head.loss_ld.tau == 0.3


def test_untyped_distillation_dicts_still_build_with_a_warning():
    """The old ``loss_ld`` / ``loss_fd`` dicts (``weight``, no ``type``; FD's
    ``hidden_channels``) map to the typed losses and the head's
    ``hint_hidden_channels``, with the same losses."""
    with pytest.warns(FutureWarning) as record:
        old = _head(loss_ld=dict(weight=0.5, tau=0.7, tau_square=True),
                    loss_fd=dict(weight=0.2, mode='mse', hidden_channels=8,
                                 branch_reduction='mean'))
    messages = ' '.join(str(r.message) for r in record)
    assert "type='LogitDistillationLoss'" in messages
    assert "type='FeatureDistillationLoss'" in messages
    assert 'loss_fd.loss_weight instead of loss_fd.weight' in messages
    assert 'hint_hidden_channels=8' in messages
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        new = _head(
            loss_ld=dict(type='LogitDistillationLoss', loss_weight=0.5,
                         tau=0.7, tau_square=True),
            loss_fd=dict(type='FeatureDistillationLoss', loss_weight=0.2,
                         mode='mse', branch_reduction='mean'),
            hint_hidden_channels=8)
    assert (old.loss_ld.loss_weight, old.loss_ld.tau) == (0.5, 0.7)
    assert (old.loss_fd.loss_weight, old.loss_fd.mode) == (0.2, 'mse')
    assert old.hints[0][0].out_features == 8
    new.load_state_dict(old.state_dict())
    old.eval()
    new.eval()
    feats = _feats()
    got, expected = old.loss(feats, _samples()), new.loss(feats, _samples())
    assert set(got) == ALL_KEYS
    for key in ALL_KEYS:
        assert torch.equal(got[key], expected[key]), key


@pytest.mark.parametrize('old, new', [
    (dict(frame_channels=(C1, C2)), dict(base_channels=(C1, C2))),
    (dict(video_channels=DV), dict(final_channels=DV)),
    (dict(frame_loss=False), dict(base_loss=False)),
    (dict(video_loss=False), dict(final_loss=False)),
    (dict(freeze_bias=dict(frame=(False, True), video=False)),
     dict(freeze_bias=dict(base=(False, True), final=False))),
    (dict(classifier_bias=dict(frame=(False, True))),
     dict(classifier_bias=dict(base=(False, True)))),
])
def test_deprecated_names_build_the_same_head(old, new):
    name = next(iter(old))
    renamed = next(iter(new))
    cfg = dict(type='SelfDistillationHead', num_classes=K,
               spatial_channels=(C1, C2))
    defaults = dict(base_channels=(C1, C2), final_channels=DV)
    with pytest.warns(FutureWarning, match='use') as record:
        torch.manual_seed(0)
        old_head = MODELS.build(
            dict(cfg, **{k: v for k, v in defaults.items()
                         if k not in new}, **old))
    message = str(record[0].message)
    assert name in message or "'frame'" in message or "'video'" in message
    torch.manual_seed(0)
    new_head = MODELS.build(dict(cfg, **dict(defaults, **new)))
    assert getattr(old_head, renamed) == getattr(new_head, renamed)
    old_sd, new_sd = old_head.state_dict(), new_head.state_dict()
    assert list(old_sd) == list(new_sd)
    assert all(torch.equal(old_sd[k], new_sd[k]) for k in old_sd)
    assert [p.requires_grad for p in old_head.parameters()] == [
        p.requires_grad for p in new_head.parameters()]


def test_deprecated_name_conflicting_with_the_new_one():
    with pytest.raises(ValueError, match='frame_channels.*deprecated'), \
            pytest.warns(FutureWarning):
        _head(frame_channels=(C1, 8))
    with pytest.warns(FutureWarning):  # equal values: fine
        head = _head(frame_channels=(C1, C2))
    assert head.base_channels == (C1, C2)
    with pytest.raises(ValueError, match="both 'frame' and.*'base'"):
        _head(freeze_bias=dict(frame=True, base=False))
    # an old key merged over the same new one (e.g. --cfg-options): fine
    with pytest.warns(FutureWarning, match="key 'frame' is deprecated"):
        head = _head(classifier_bias=dict(frame=(False, True),
                                          base=(False, True)))
    assert head.frame_necks[1].classifier.bias is not None
    with pytest.raises(TypeError, match='frame_chanels'):
        _head(frame_chanels=(C1, C2))


def test_old_feature_keys_warn_and_give_the_same_losses():
    torch.manual_seed(0)
    head = _head().eval()
    feats = _feats()
    old = dict(frame=feats['base'], spatial=feats['spatial'],
               video=feats['final'])
    with pytest.warns(FutureWarning) as record:
        got = head.loss(old, _samples())
    assert [str(r.message).split(':')[1].strip() for r in record] == [
        "feats['frame'] is deprecated, use feats['base'] (the stages are "
        "('base', 'spatial', 'final')).",
        "feats['video'] is deprecated, use feats['final'] (the stages are "
        "('base', 'spatial', 'final')).",
    ]
    expected = head.loss(feats, _samples())
    for key in ALL_KEYS:
        assert torch.equal(got[key], expected[key]), key
    with pytest.raises(ValueError, match="both 'video' and its new name"):
        head.loss(dict(feats, video=feats['final']), _samples())


def test_distillation_never_updates_the_teacher():
    """LD/FD send no gradient to f, HTA or the video BN-neck."""
    cca = ComplementaryContentAttention(in_channels=(C1, C2))
    hta = HierarchicalTemporalAggregation(
        in_channels=(C1, C2),
        embed_dims=DV // 2,
        num_heads=2,
        num_frames=T,
        detach_input=False)
    head = _head(base_loss=False, spatial_loss=False, final_loss=False,
                 hint_hidden_channels=8)
    frame = (torch.randn(B, T, C1, requires_grad=True),
             torch.randn(B, T, C2, requires_grad=True))
    local = (torch.randn(B * T, 6, C1), torch.randn(B * T, 6, C2))
    y = cca(((local[0], frame[0].flatten(0, 1)),
             (local[1], frame[1].flatten(0, 1))))
    spatial = tuple(t.view(B, T, -1) for t in y)
    video = hta(spatial)
    video.retain_grad()
    losses = head.loss(
        dict(base=frame, spatial=spatial, final=video), _samples())
    assert set(losses) == {'loss_ld', 'loss_fd'}
    (losses['loss_ld'] + losses['loss_fd']).backward()
    assert video.grad is None or not video.grad.any()
    for name, param in list(hta.named_parameters()) + list(
            cca.named_parameters()) + list(
                head.video_neck.named_parameters()):
        assert param.grad is None or not param.grad.any(), name
    # the students do learn
    assert frame[0].grad is not None and frame[0].grad.abs().sum() > 0
    assert frame[1].grad is not None and frame[1].grad.abs().sum() > 0
    assert head.frame_necks[0].classifier.weight.grad.abs().sum() > 0
    assert head.hints[1][0].weight.grad.abs().sum() > 0


def test_freeze_bias_per_feature():
    head = _head(freeze_bias=dict(base=(False, True), spatial=False,
                                  final=False))
    assert head.frame_necks[0].bn.bias.requires_grad
    assert not head.frame_necks[1].bn.bias.requires_grad
    assert all(n.bn.bias.requires_grad for n in head.spatial_necks)
    assert head.video_neck.bn.bias.requires_grad
    head = _head()
    assert not any(p.requires_grad for p in (
        head.frame_necks[0].bn.bias, head.spatial_necks[1].bn.bias,
        head.video_neck.bn.bias))


def test_predict_gives_the_bnneck_features_of_each_stage():
    head = _head()
    head.eval()
    feats = _feats()
    out = head.predict(feats, ('base', 'spatial', 'final'))
    assert list(out) == ['base', 'spatial', 'final']
    for stage, necks in (('base', head.frame_necks),
                         ('spatial', head.spatial_necks)):
        assert len(out[stage]) == 2
        for got, neck, x in zip(out[stage], necks, feats[stage]):
            torch.testing.assert_close(got, neck.bn(x.mean(dim=1)))
    assert len(out['final']) == 1
    torch.testing.assert_close(out['final'][0],
                               head.video_neck.bn(feats['final']))
    assert list(head.predict(feats, 'spatial')) == ['spatial']
    assert list(head.predict(feats)) == ['final']
    with pytest.raises(ValueError, match='spatial_neck'):
        head.predict(_feats(spatial=False), 'spatial')
    with pytest.raises(ValueError, match='temporal_neck'):
        head.predict(_feats(final=False), ['final'])
    with pytest.raises(ValueError, match="stages must be in"):
        head.predict(feats, ['all'])
    with pytest.raises(ValueError, match='spatial BN-necks'):
        _head(spatial_loss=False).predict(feats, ['spatial'])
    with pytest.raises(ValueError, match='base BN-necks'):
        _head(base_loss=False, loss_ld=None).predict(feats, ['base'])


def test_full_size_widths():
    head = SelfDistillationHead(num_classes=K)
    base = (torch.randn(4, 2, 2048), torch.randn(4, 2, 768))
    feats = dict(base=base, spatial=base, final=torch.randn(4, 1024))
    losses = head.loss(feats, _samples(4))
    assert set(losses) == ALL_KEYS
    assert all(torch.isfinite(v) for v in losses.values())

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


def _feats(requires_grad=False, spatial=True, video=True):
    frame = (torch.randn(B, T, C1, requires_grad=requires_grad),
             torch.randn(B, T, C2, requires_grad=requires_grad))
    sp = (torch.randn(B, T, C1, requires_grad=requires_grad),
          torch.randn(B, T, C2, requires_grad=requires_grad)) if spatial \
        else None
    vid = torch.randn(B, DV, requires_grad=requires_grad) if video else None
    return dict(frame=frame, spatial=sp, video=vid)


def _head(**kwargs):
    cfg = dict(
        type='SelfDistillationHead',
        num_classes=K,
        frame_channels=(C1, C2),
        spatial_channels=(C1, C2),
        video_channels=DV)
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('mode', ['l2', 'mse'])
def test_all_losses_present_and_finite(mode):
    head = _head(loss_fd=dict(weight=0.1, mode=mode))
    assert isinstance(head, SelfDistillationHead)
    feats = _feats(requires_grad=True)
    losses = head.loss(feats, _samples())
    assert set(losses) == ALL_KEYS
    for key, value in losses.items():
        assert value.dim() == 0 and torch.isfinite(value), key
    sum(losses.values()).backward()
    assert feats['frame'][0].grad is not None
    assert feats['spatial'][1].grad is not None
    assert feats['video'].grad is not None  # through the video CE/triplet


def test_disabled_and_absent_keys():
    losses = _head(loss_ld=None, loss_fd=None).loss(_feats(), _samples())
    assert set(losses) == ALL_KEYS - {'loss_ld', 'loss_fd'}
    losses = _head(frame_loss=False).loss(_feats(), _samples())
    assert set(losses) == ALL_KEYS - {'loss_ce_frame', 'loss_tri_frame'}
    losses = _head(loss_triplet=None).loss(_feats(), _samples())
    assert set(losses) == ALL_KEYS - {'loss_tri_frame', 'loss_tri_video'}
    # no temporal neck: no video feature, no distillation
    head = _head(video_channels=None, loss_ld=None, loss_fd=None)
    losses = head.loss(_feats(video=False), _samples())
    assert set(losses) == {'loss_ce_frame', 'loss_tri_frame',
                           'loss_ce_video', 'loss_tri_video'}
    losses = _head().loss(_feats(spatial=False, video=False), _samples())
    assert set(losses) == {'loss_ce_frame', 'loss_tri_frame'}


def test_distillation_requires_video_channels():
    with pytest.raises(ValueError, match='video_channels'):
        _head(video_channels=None)


def _manual_losses(head, feats, labels):
    """The losses written out by hand, following the spec."""
    ce = torch.nn.functional.cross_entropy
    tri = head.loss_triplet
    frame_ce, frame_tri, frame_logits = [], [], []
    for neck, g in zip(head.frame_necks, feats['frame']):
        bn, logits = neck(g.reshape(B * T, -1))
        frame_logits.append(logits)
        frame_ce.append(ce(logits, labels.repeat_interleave(T)))
        bn = bn.view(B, T, -1)
        frame_tri.append(
            sum(tri(bn[:, t], labels) for t in range(T)) / T)
    video = [
        neck(y.mean(1)) for neck, y in zip(head.spatial_necks,
                                            feats['spatial'])
    ]
    video.append(head.video_neck(feats['video']))
    zf = video[-1][1].detach()
    tau = 0.3
    p_f = torch.softmax(zf / tau, 1).repeat_interleave(T, 0)
    ld = sum((p_f * (p_f.log() - torch.log_softmax(z / tau, 1))).sum() /
             (B * T) for z in frame_logits) / 2
    f = feats['video'].detach().repeat_interleave(T, 0)
    fd = sum(
        torch.sqrt(((h(g.reshape(B * T, -1)) - f)**2).sum())
        for h, g in zip(head.hints, feats['frame']))
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


def test_ld_options():
    head = _head(loss_ld=dict(weight=1.0, tau=0.5, tau_square=True),
                 loss_fd=None)
    head.eval()
    feats = _feats()
    loss = head.loss(feats, _samples())['loss_ld']
    head.ld_cfg['tau_square'] = False
    plain = head.loss(feats, _samples())['loss_ld']
    torch.testing.assert_close(loss, plain * 0.25)
    with pytest.raises(ValueError, match='Unknown keys'):
        _head(loss_ld=dict(weight=0.1, temperature=2.0))
    with pytest.raises(ValueError, match="'l2' or 'mse'"):
        _head(loss_fd=dict(mode='l1'))


def test_distillation_never_updates_the_teacher():
    """LD/FD send no gradient to f, HTA or the video BN-neck."""
    cca = ComplementaryContentAttention(in_channels=(C1, C2))
    hta = HierarchicalTemporalAggregation(
        in_channels=(C1, C2),
        embed_dims=DV // 2,
        num_heads=2,
        num_frames=T,
        detach_input=False)
    head = _head(frame_loss=False, spatial_loss=False, video_loss=False,
                 loss_fd=dict(weight=0.1, hidden_channels=8))
    frame = (torch.randn(B, T, C1, requires_grad=True),
             torch.randn(B, T, C2, requires_grad=True))
    local = (torch.randn(B * T, 6, C1), torch.randn(B * T, 6, C2))
    y = cca(((local[0], frame[0].flatten(0, 1)),
             (local[1], frame[1].flatten(0, 1))))
    spatial = tuple(t.view(B, T, -1) for t in y)
    video = hta(spatial)
    video.retain_grad()
    losses = head.loss(
        dict(frame=frame, spatial=spatial, video=video), _samples())
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
    head = _head(freeze_bias=dict(frame=(False, True), spatial=False,
                                  video=False))
    assert head.frame_necks[0].bn.bias.requires_grad
    assert not head.frame_necks[1].bn.bias.requires_grad
    assert all(n.bn.bias.requires_grad for n in head.spatial_necks)
    assert head.video_neck.bn.bias.requires_grad
    head = _head()
    assert not any(p.requires_grad for p in (
        head.frame_necks[0].bn.bias, head.spatial_necks[1].bn.bias,
        head.video_neck.bn.bias))


def test_predict():
    head = _head()
    head.eval()
    feats = _feats()
    assert head.predict(feats, 'spatial').shape == (B, C1 + C2)
    assert head.predict(feats, 'final').shape == (B, DV)
    assert head.predict(feats, 'bnneck').shape == (B, C1 + C2)
    torch.testing.assert_close(
        head.predict(feats, 'final'), head.video_neck.bn(feats['video']))
    with pytest.raises(ValueError, match='spatial_neck'):
        head.predict(_feats(spatial=False), 'spatial')
    with pytest.raises(ValueError, match='temporal_neck'):
        head.predict(_feats(video=False), 'final')
    with pytest.raises(ValueError, match="'spatial', 'final'"):
        head.predict(feats, 'all')
    with pytest.raises(ValueError, match='spatial BN-necks'):
        _head(spatial_loss=False).predict(feats, 'spatial')


def test_full_size_widths():
    head = SelfDistillationHead(num_classes=K)
    frame = (torch.randn(4, 2, 2048), torch.randn(4, 2, 768))
    feats = dict(frame=frame, spatial=frame, video=torch.randn(4, 1024))
    losses = head.loss(feats, _samples(4))
    assert set(losses) == ALL_KEYS
    assert all(torch.isfinite(v) for v in losses.values())

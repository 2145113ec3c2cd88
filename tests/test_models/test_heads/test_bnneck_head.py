"""BNNeckHead, the head of the Coupled and single-backbone baselines:
per-frame or per-tracklet supervision, the per-branch BN-shift freeze and
the deprecated name VideoReIDHead."""
import pytest
import torch
import torch.nn.functional as F

from mmdcct.models.heads import BNNeckHead, VideoReIDHead
from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample

B, T, WIDTHS, K = 4, 3, (16, 8), 5


def _inputs():
    torch.manual_seed(0)
    frame = tuple(torch.randn(B, T, c) for c in WIDTHS)
    samples = [VideoReIDDataSample().set_gt_label(i // 2) for i in range(B)]
    return dict(base=frame), samples


def _head(**kwargs):
    torch.manual_seed(1)
    head = BNNeckHead(num_classes=K, in_channels=WIDTHS, **kwargs)
    head.init_weights()
    return head


def _batch_hard(feats, labels, margin=0.3):
    """Cosine batch-hard triplet, written out."""
    f = F.normalize(feats, dim=1)
    dist = 1 - f @ f.t()
    same = labels[:, None] == labels[None]
    hardest_pos = (dist * same).max(dim=1).values
    hardest_neg = dist.masked_fill(same, float('inf')).min(dim=1).values
    return F.relu(hardest_pos - hardest_neg + margin).mean()


def test_frame_supervision_equals_per_frame_losses():
    feats, samples = _inputs()
    head = _head(supervision='frame')
    head.train()
    losses = head.loss(feats, samples)
    assert set(losses) == {'loss_ce_frame', 'loss_tri_frame'}
    labels = torch.tensor([0, 0, 1, 1])
    ce, tri = [], []
    for neck, g in zip(head.necks, feats['base']):
        # BN in train mode over all B*T frames at once
        bn = F.batch_norm(g.flatten(0, 1), None, None, neck.bn.weight,
                          neck.bn.bias, training=True, eps=neck.bn.eps)
        ce.append(F.cross_entropy(neck.classifier(bn),
                                  labels.repeat_interleave(T)))
        per_t = bn.view(B, T, -1)
        tri.append(
            torch.stack([_batch_hard(per_t[:, t], labels)
                         for t in range(T)]).mean())
    torch.testing.assert_close(losses['loss_ce_frame'],
                               torch.stack(ce).mean())
    torch.testing.assert_close(losses['loss_tri_frame'],
                               torch.stack(tri).mean())


def test_video_supervision_is_on_the_time_average():
    feats, samples = _inputs()
    head = _head(supervision='video')
    losses = head.loss(feats, samples)
    assert set(losses) == {'loss_ce_video', 'loss_tri_video'}
    labels = torch.tensor([0, 0, 1, 1])
    ce = [
        F.cross_entropy(neck(g.mean(dim=1))[1], labels)
        for neck, g in zip(head.necks, feats['base'])
    ]
    torch.testing.assert_close(losses['loss_ce_video'],
                               torch.stack(ce).mean())
    # no triplet: only the CE key
    assert set(_head(loss_triplet=None).loss(feats, samples)) == {
        'loss_ce_video'
    }


@pytest.mark.parametrize('freeze, expected', [
    (True, [True, True]),
    (False, [False, False]),
    ((False, True), [False, True]),
])
def test_freeze_bias_per_branch(freeze, expected):
    head = _head(freeze_bias=freeze, supervision='frame')
    assert [not n.bn.bias.requires_grad for n in head.necks] == expected
    feats, samples = _inputs()
    sum(head.loss(feats, samples).values()).backward()
    for neck, frozen in zip(head.necks, expected):
        # the frozen shift stays at 0 and gets no gradient
        assert (neck.bn.bias.grad is None) == frozen
        assert neck.bn.weight.grad is not None


def test_predict_is_the_bnneck_of_the_time_average():
    feats, _ = _inputs()
    head = _head(supervision='frame')
    head.eval()
    out = head.predict(feats)
    assert list(out) == ['base'] and len(out['base']) == 2
    for got, neck, g in zip(out['base'], head.necks, feats['base']):
        torch.testing.assert_close(got, neck.bn(g.mean(dim=1)))
        # BN in eval mode is affine: the BN-neck of TAP = TAP of the BN-neck
        torch.testing.assert_close(
            got, neck.bn(g.flatten(0, 1)).view(B, T, -1).mean(1))
    assert head.predict(feats, ()) == {}
    with pytest.raises(ValueError, match="only produces the 'base' stage"):
        head.predict(feats, ('base', 'final'))


def test_old_name_builds_the_same_head_with_a_warning():
    cfg = dict(num_classes=K, in_channels=WIDTHS, supervision='frame',
               freeze_bias=(False, True))
    with pytest.warns(FutureWarning, match="use 'BNNeckHead'"):
        torch.manual_seed(0)
        old = MODELS.build(dict(type='VideoReIDHead', **cfg))
    assert isinstance(old, BNNeckHead) and isinstance(old, VideoReIDHead)
    torch.manual_seed(0)
    new = MODELS.build(dict(type='BNNeckHead', **cfg))
    assert type(new) is BNNeckHead
    old_sd, new_sd = old.state_dict(), new.state_dict()
    assert list(old_sd) == list(new_sd)  # checkpoints load either way
    assert all(torch.equal(old_sd[k], new_sd[k]) for k in old_sd)
    feats, samples = _inputs()
    got, expected = old.loss(feats, samples), new.loss(feats, samples)
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[k], expected[k]) for k in got)


def test_old_feature_key_frame_still_works():
    feats, samples = _inputs()
    head = _head()
    with pytest.warns(FutureWarning, match=r"feats\['frame'\]"):
        got = head.loss(dict(frame=feats['base']), samples)
    expected = head.loss(feats, samples)
    assert all(torch.equal(got[k], expected[k]) for k in got)
    with pytest.raises(ValueError, match=r"needs feats\['base'\]"):
        head.loss(dict(spatial=feats['base']), samples)


@pytest.mark.parametrize('kwargs, match', [
    (dict(supervision='tracklet'), 'supervision must be one of'),
    (dict(freeze_bias=(True, )), 'one bool per branch'),
    (dict(freeze_bias=(1, 0)), 'one bool per branch'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BNNeckHead(num_classes=K, in_channels=WIDTHS, **kwargs)


def test_branch_count_mismatch():
    feats, samples = _inputs()
    head = BNNeckHead(num_classes=K, in_channels=(16, ))
    with pytest.raises(ValueError, match='built for 1 branches'):
        head.loss(feats, samples)

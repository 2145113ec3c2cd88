"""BNNeck's optional classifier bias and SelfDistillationHead's per-feature
``classifier_bias`` (needed to load the DCCT authors' checkpoints)."""
import pytest
import torch

from mmdcct.models.heads import BNNeck, SelfDistillationHead


def test_bnneck_classifier_bias_is_off_by_default_and_used_when_on():
    assert BNNeck(8, 5).classifier.bias is None
    neck = BNNeck(8, 5, classifier_bias=True).eval()
    torch.nn.init.normal_(neck.classifier.bias)
    feats = torch.randn(3, 8)
    bn_feats, logits = neck(feats)
    expected = bn_feats @ neck.classifier.weight.t() + neck.classifier.bias
    torch.testing.assert_close(logits, expected)


def _head(**kwargs):
    return SelfDistillationHead(
        num_classes=5,
        base_channels=(16, 8),
        spatial_channels=(16, 8),
        final_channels=12,
        **kwargs)


def _biases(head):
    necks = list(head.frame_necks) + list(head.spatial_necks) + [
        head.video_neck]
    return [n.classifier.bias is not None for n in necks]


@pytest.mark.parametrize('value, expected', [
    (False, [False] * 5),
    (True, [True] * 5),
    (dict(base=(False, True)), [False, True, False, False, False]),
    (dict(spatial=True, final=True), [False, False, True, True, True]),
])
def test_head_classifier_bias_per_feature(value, expected):
    head = _head(classifier_bias=value)
    assert _biases(head) == expected
    # freeze_bias is independent of it
    assert all(not n.bn.bias.requires_grad for n in head.frame_necks)


@pytest.mark.parametrize('value, match', [
    (dict(frames=True), "Unknown classifier_bias keys"),
    (dict(base=(True, )), r"classifier_bias\['base'\] needs 2 flags"),
])
def test_head_classifier_bias_errors(value, match):
    with pytest.raises(ValueError, match=match):
        _head(classifier_bias=value)


def test_bnneck_shapes_and_feature_order():
    neck = BNNeck(16, 7)
    neck.init_weights()
    feats = torch.randn(5, 16) * 3 + 2
    bn_feats, logits = neck(feats)
    assert bn_feats.shape == (5, 16) and logits.shape == (5, 7)
    # training mode: the first output is the batch-normalised input and the
    # logits classify it (the triplet loss takes the input itself)
    expected = torch.nn.functional.batch_norm(
        feats, None, None, neck.bn.weight, neck.bn.bias, training=True)
    torch.testing.assert_close(bn_feats, expected)
    torch.testing.assert_close(logits, bn_feats @ neck.classifier.weight.t())
    # eval mode uses the running statistics gathered above
    neck.eval()
    bn_eval, _ = neck(feats)
    torch.testing.assert_close(
        bn_eval, (feats - neck.bn.running_mean) /
        torch.sqrt(neck.bn.running_var + neck.bn.eps))


def test_bnneck_default_init():
    torch.manual_seed(0)
    neck = BNNeck(512, 1000, classifier_bias=True)
    neck.init_weights()
    weight = neck.classifier.weight
    assert abs(weight.mean().item()) < 1e-4
    assert weight.std().item() == pytest.approx(0.001, rel=0.02)
    assert torch.count_nonzero(neck.classifier.bias) == 0
    assert torch.equal(neck.bn.weight, torch.ones(512))
    assert torch.equal(neck.bn.bias, torch.zeros(512))


def test_bnneck_init_cfg_overrides_the_default():
    neck = BNNeck(
        8, 4, init_cfg=dict(type='Constant', layer='Linear', val=0.5))
    neck.init_weights()
    assert torch.all(neck.classifier.weight == 0.5)


@pytest.mark.parametrize('freeze', [True, False])
def test_bnneck_frozen_bias_stays_zero_while_training(freeze):
    neck = BNNeck(8, 3, freeze_bias=freeze)
    neck.init_weights()
    assert neck.bn.bias.requires_grad is not freeze
    assert neck.bn.weight.requires_grad
    optim = torch.optim.SGD(neck.parameters(), lr=1.0, weight_decay=0.1)
    for _ in range(3):
        optim.zero_grad()
        _, logits = neck(torch.randn(6, 8))
        torch.nn.functional.cross_entropy(logits,
                                          torch.arange(6) % 3).backward()
        optim.step()
    assert torch.count_nonzero(neck.bn.bias).item() == (0 if freeze else 8)
    assert not torch.equal(neck.bn.weight, torch.ones(8))
    # the frozen shift is still part of the state dict (checkpoints load)
    assert 'bn.bias' in neck.state_dict()


@pytest.mark.parametrize('num_classes', [0, -3])
def test_bnneck_refuses_no_classes(num_classes):
    with pytest.raises(ValueError, match='num_classes must be a positive'):
        BNNeck(8, num_classes)

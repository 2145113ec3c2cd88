"""``VideoReIDDataSample`` and ``format_label``: fields, setters, type checks
and how a batch of samples is stacked."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmdcct.structures import VideoReIDDataSample, format_label


@pytest.mark.parametrize('value', [
    7, np.int64(7), np.array(7), np.array([7], dtype=np.int32), [7], (7, ),
    torch.tensor(7), torch.tensor([7], dtype=torch.int32),
    torch.tensor([[7]], dtype=torch.uint8)
])
def test_format_label_common_types(value):
    label = format_label(value)
    assert label.dtype == torch.long
    assert label.shape == (1, )
    assert label.item() == 7


@pytest.mark.parametrize('value', [
    5.7, np.float32(5.0), torch.tensor([5.7]), np.array([5.0]), [5.5]
])
def test_format_label_refuses_float_labels(value):
    # truncation would silently turn 5.7 into identity 5
    with pytest.raises(TypeError, match='must be an integer'):
        format_label(value)


@pytest.mark.parametrize('value', ['5', None, {'pid': 5}, object()])
def test_format_label_refuses_other_types(value):
    with pytest.raises(TypeError, match='not an available label type'):
        format_label(value)


@pytest.mark.parametrize('value', [[1, 2], np.array([], dtype=np.int64),
                                   torch.zeros(2, 2, dtype=torch.long)])
def test_format_label_one_identity_per_tracklet(value):
    with pytest.raises(ValueError, match=r'one identity label.*shape'):
        format_label(value)


def test_set_gt_label_returns_self_and_stores_a_data_field():
    sample = VideoReIDDataSample(metainfo=dict(pid=12, camid=2))
    assert sample.set_gt_label(4) is sample
    assert isinstance(sample, BaseDataElement)
    assert torch.equal(sample.gt_label, torch.tensor([4]))
    assert 'gt_label' in sample.keys()
    assert 'gt_label' not in sample.metainfo_keys()
    assert sample.metainfo == dict(pid=12, camid=2)
    # setting again replaces the label
    sample.set_gt_label(np.int64(5))
    assert torch.equal(sample.gt_label, torch.tensor([5]))


def test_set_pred_feature_converts_and_keeps_the_shape():
    sample = VideoReIDDataSample()
    feat = torch.randn(6)
    assert sample.set_pred_feature(feat) is sample
    assert sample.pred_feature is feat  # a tensor is stored as is
    sample.set_pred_feature([1.0, 2.0, 3.0])
    assert isinstance(sample.pred_feature, torch.Tensor)
    assert sample.pred_feature.shape == (3, )
    torch.testing.assert_close(sample.pred_feature,
                               torch.tensor([1.0, 2.0, 3.0]))
    sample.set_pred_feature(np.ones(4, dtype=np.float32))
    assert sample.pred_feature.shape == (4, )
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        sample.set_pred_feature('feature')


def test_field_names_cannot_clash_with_meta_fields():
    sample = VideoReIDDataSample(metainfo=dict(pid=3))
    sample.set_gt_label(0)
    with pytest.raises(AttributeError, match='already a data field'):
        sample.set_metainfo(dict(gt_label=1))
    with pytest.raises(AttributeError, match='already a metainfo field'):
        sample.set_field(torch.tensor([1]), 'pid')


def test_to_clone_and_new_keep_the_fields():
    sample = VideoReIDDataSample(metainfo=dict(pid=3, camid=1))
    sample.set_gt_label(2).set_pred_feature(torch.arange(4.0))
    moved = sample.to('cpu')
    assert torch.equal(moved.pred_feature, sample.pred_feature)
    assert moved.metainfo == sample.metainfo
    clone = sample.clone()
    assert clone.metainfo == sample.metainfo
    assert torch.equal(clone.gt_label, sample.gt_label)
    new = sample.new(gt_label=torch.tensor([9]))
    assert isinstance(new, VideoReIDDataSample)
    assert new.gt_label.item() == 9 and new.pid == 3
    assert sample.gt_label.item() == 2


def test_samples_stack_into_batch_tensors():
    """As the heads and the inferencer stack them: ``torch.cat`` of the
    labels gives ``(B,)``, ``torch.stack`` of the features ``(B, C)``."""
    samples = [
        VideoReIDDataSample().set_gt_label(pid).set_pred_feature(
            torch.full((5, ), float(pid))) for pid in (4, 0, 4, 7)
    ]
    labels = torch.cat([s.gt_label for s in samples])
    assert labels.shape == (4, ) and labels.dtype == torch.long
    assert labels.tolist() == [4, 0, 4, 7]
    feats = torch.stack([s.pred_feature for s in samples])
    assert feats.shape == (4, 5)
    assert feats[:, 0].tolist() == [4.0, 0.0, 4.0, 7.0]

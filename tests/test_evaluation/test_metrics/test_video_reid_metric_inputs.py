"""``VideoReIDMetric`` on other data samples (mmpretrain's ``DataSample``)
and on bad features: missing fields, mixed widths, NaN, collapsed
features."""
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmdcct.evaluation.metrics import VideoReIDMetric


def make_samples(num_samples=24, dim=8, seed=0):
    """4 identities over 3 cameras; every 3rd tracklet is a query (also in
    the gallery every 2nd time), the others are gallery entries."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(4, dim))
    samples = []
    for i in range(num_samples):
        pid = i % 4
        is_query = i % 3 == 0
        samples.append(
            dict(
                pred_feature=torch.from_numpy(
                    centers[pid] + 0.8 * rng.normal(size=dim)).float(),
                pid=pid,
                camid=int(rng.integers(0, 3)),
                is_query=is_query,
                is_gallery=(not is_query) or i % 2 == 0,
                sample_idx=i))
    return samples


def evaluate(samples, **kwargs):
    metric = VideoReIDMetric(**kwargs)
    metric.process(None, samples)
    return metric.evaluate(size=len(samples))


def to_pretrain_sample(sample, with_camid=True):
    """An mmpretrain ``DataSample``: the identity in ``gt_label``."""
    ds = DataSample().set_gt_label(sample['pid'])
    meta = dict(
        is_query=sample['is_query'], is_gallery=sample['is_gallery'])
    if with_camid:
        meta['camid'] = sample['camid']
    ds.set_metainfo(meta)
    ds.set_field(sample['pred_feature'], 'pred_feature')
    return ds


def test_mmpretrain_data_sample_reads_gt_label():
    samples = make_samples()
    pretrain = [to_pretrain_sample(s) for s in samples]
    assert 'pid' not in pretrain[0]
    assert pretrain[0].gt_label.shape == (1, )
    assert evaluate(pretrain) == evaluate(samples)
    # ``pid`` wins over ``gt_label`` (mmdcct's gt_label is a train label)
    shuffled = [dict(s, gt_label=torch.tensor([99 - s['pid']]))
                for s in samples]
    assert evaluate(shuffled) == evaluate(samples)


def test_missing_fields_name_the_field_and_the_fix():
    sample = make_samples(1)[0]
    metric = VideoReIDMetric()
    with pytest.raises(KeyError, match=r"\['camid'\].*set_metainfo"):
        metric.process(None, [to_pretrain_sample(sample, with_camid=False)])
    no_id = {k: v for k, v in sample.items() if k != 'pid'}
    with pytest.raises(KeyError, match='`pid` in the metainfo, or `gt_label`'):
        metric.process(None, [no_id])
    no_flags = {k: v for k, v in sample.items() if k != 'is_query'}
    with pytest.raises(KeyError, match=r"\['is_query'\].*sample_idx 0"):
        metric.process(None, [no_flags])
    no_feat = {k: v for k, v in sample.items() if k != 'pred_feature'}
    with pytest.raises(KeyError, match='pred_feature'):
        metric.process(None, [no_feat])
    assert metric.results == []


def test_mixed_feature_widths_name_widths_and_counts():
    samples = make_samples()
    for i in (3, 5):
        samples[i]['pred_feature'] = torch.ones(6)
    with pytest.raises(ValueError) as err:
        evaluate(samples)
    msg = str(err.value)
    assert 'width 8: 22 samples; width 6: 2 samples' in msg
    assert '3 (pid 3), 5 (pid 1)' in msg
    assert 'test_cfg.feature' in msg


def test_nan_features_name_the_rows():
    samples = make_samples()
    samples[4]['pred_feature'][2] = float('nan')
    samples[7]['pred_feature'][:] = float('inf')
    with pytest.raises(ValueError) as err:
        evaluate(samples)
    msg = str(err.value)
    assert '2 of 24 samples have NaN or inf' in msg
    assert '4 (pid 0), 7 (pid 3)' in msg
    # without sample_idx, the dataset position names the row
    for s in samples:
        del s['sample_idx']
    samples = samples[1:]
    with pytest.raises(ValueError, match=r'3 \(pid 0\), 6 \(pid 3\)'):
        evaluate(samples)


@pytest.mark.parametrize('distance', ['cosine', 'euclidean'])
@pytest.mark.parametrize('value', [0.0, 1.5])
def test_collapsed_features_warn_with_the_tied_count(distance, value,
                                                     mmlogger_messages):
    samples = make_samples()
    for s in samples:
        s['pred_feature'] = torch.full((8, ), value)
    result = evaluate(samples, distance=distance)
    assert 0 < result['mAP'] <= 100  # a plausible score ...
    num_query = sum(s['is_query'] for s in samples)
    warnings = [m for m in mmlogger_messages if m.startswith('WARNING')]
    assert len(warnings) == 1  # ... but flagged
    assert f'{num_query} of {num_query} queries have the same' in warnings[0]
    assert 'collapsed features' in warnings[0]
    # the score depends on the gallery order only
    reordered = evaluate(samples[::-1], distance=distance)
    assert reordered['mAP'] != result['mAP']


def test_partly_collapsed_and_healthy_features(mmlogger_messages):
    samples = make_samples()
    evaluate(samples)
    assert not [m for m in mmlogger_messages if m.startswith('WARNING')]
    zero = [i for i, s in enumerate(samples) if s['is_query']][:3]
    for i in zero:  # a zero query is equally far from every entry (cosine)
        samples[i]['pred_feature'] = torch.zeros(8)
    evaluate(samples)
    warnings = [m for m in mmlogger_messages if m.startswith('WARNING')]
    assert len(warnings) == 1
    assert '3 of 8 queries have the same cosine distance' in warnings[0]


def test_tie_probe_is_confirmed_on_the_whole_gallery(mmlogger_messages):
    """A gallery of 100 equal entries but one outside the probe: every query
    ties on the probe, none on the whole gallery."""
    rng = np.random.default_rng(1)
    probe = set(np.linspace(0, 99, 64).round().astype(int).tolist())
    odd = next(i for i in range(100) if i not in probe)
    samples = []
    for i in range(100):
        feat = torch.ones(8) if i != odd else torch.from_numpy(
            rng.normal(size=8)).float()
        samples.append(
            dict(
                pred_feature=feat,
                pid=i % 5,
                camid=i % 3,
                is_query=False,
                is_gallery=True))
    for i in range(5):
        samples.append(
            dict(
                pred_feature=torch.from_numpy(rng.normal(size=8)).float(),
                pid=i,
                camid=(i + 1) % 3,
                is_query=True,
                is_gallery=False))
    evaluate(samples)
    assert not [m for m in mmlogger_messages if m.startswith('WARNING')]
    samples[odd]['pred_feature'] = torch.ones(8)
    evaluate(samples)
    assert '5 of 5 queries have the same' in ''.join(mmlogger_messages)


def test_mmpretrain_pack_inputs_as_in_the_readme():
    """The README's ``PackInputs(meta_keys=...)`` keeps what the metric
    reads; the model only adds ``pred_feature``."""
    from mmpretrain.datasets.transforms import PackInputs
    pack = PackInputs(
        meta_keys=('sample_idx', 'camid', 'is_query', 'is_gallery'))
    samples = make_samples()
    packed = []
    for s in samples:
        ds = pack(
            dict(
                img=np.zeros((8, 4, 3), np.uint8),
                gt_label=s['pid'],
                camid=s['camid'],
                is_query=s['is_query'],
                is_gallery=s['is_gallery'],
                sample_idx=s['sample_idx']))['data_samples']
        ds.set_field(s['pred_feature'], 'pred_feature')
        packed.append(ds)
    assert evaluate(packed) == evaluate(samples)

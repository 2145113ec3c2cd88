"""``VideoReIDMetric`` with re-ranking and query expansion switched on."""
import numpy as np
import pytest
import torch

from mmdcct.evaluation.functional import (average_query_expansion,
                                          compute_distance, evaluate_rank,
                                          re_ranking_from_features)
from mmdcct.evaluation.metrics import VideoReIDMetric


def _samples(seed=0, num=60, dim=8):
    """MARS-like: 5 identities, 3 cameras, every 4th tracklet a query that
    is also appended to the gallery."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(5, dim))
    out = []
    for i in range(num):
        pid = int(rng.integers(0, 5))
        out.append(
            dict(
                pred_feature=torch.from_numpy(centres[pid] + 0.9 *
                                              rng.normal(size=dim)).float(),
                pid=pid,
                camid=int(rng.integers(0, 3)),
                is_query=i % 4 == 0,
                is_gallery=True,
                sample_idx=i))
    return out


def _evaluate(metric, samples):
    metric.process(None, samples)
    return metric.evaluate(len(samples))


def _split(samples):
    query = [s for s in samples if s['is_query']]
    gallery = [s for s in samples if s['is_gallery']]

    def stack(items):
        return (torch.stack([s['pred_feature'] for s in items]),
                [s['pid'] for s in items], [s['camid'] for s in items])

    return stack(query), stack(gallery)


@pytest.mark.parametrize('distance', ['cosine', 'euclidean'])
@pytest.mark.parametrize('use_qe', [False, True])
def test_re_ranking_equals_functional(distance, use_qe):
    samples = _samples()
    (qf, qp, qc), (gf, gp, gc) = _split(samples)
    if use_qe:
        qf, gf = average_query_expansion(qf, gf, k=3, alpha=3.0)
    # the queries are in the gallery too: their copies are at distance ~0,
    # so the float rounding of the distances decides their order and the
    # reference must use the very same distances (from the features)
    distmat = re_ranking_from_features(qf, gf, distance, 6, 3, 0.3)
    expected = evaluate_rank(distmat, qp, gp, qc, gc)
    plain = evaluate_rank(compute_distance(qf, gf, distance), qp, gp, qc, gc)
    metric = VideoReIDMetric(
        distance=distance,
        re_ranking=dict(k1=6, k2=3, lambda_value=0.3),
        query_expansion=dict(k=3) if use_qe else None)
    got = _evaluate(metric, samples)
    for key in ('mAP', 'mINP', 'R1', 'R5'):
        assert got[key] == pytest.approx(expected[key], abs=1e-9)
    # re-ranking changes the scores on this data
    assert got['mAP'] != pytest.approx(plain['mAP'], abs=1e-3)


def test_query_expansion_equals_functional():
    samples = _samples(1)
    (qf, qp, qc), (gf, gp, gc) = _split(samples)
    qf, gf = average_query_expansion(qf, gf, k=4, alpha=1.0, times=2)
    expected = evaluate_rank(compute_distance(qf, gf), qp, gp, qc, gc)
    got = _evaluate(
        VideoReIDMetric(query_expansion=dict(k=4, alpha=1.0, times=2)),
        samples)
    assert got['mAP'] == pytest.approx(expected['mAP'], abs=1e-9)
    plain = _evaluate(VideoReIDMetric(), samples)
    assert got['mAP'] != pytest.approx(plain['mAP'], abs=1e-3)


def test_defaults_off_and_bad_options():
    metric = VideoReIDMetric()
    assert metric.re_ranking is None and metric.query_expansion is None
    assert VideoReIDMetric(re_ranking=dict()).re_ranking == {}
    with pytest.raises(KeyError, match="'k3'.*re_ranking"):
        VideoReIDMetric(re_ranking=dict(k3=1))
    with pytest.raises(KeyError, match='query_expansion'):
        VideoReIDMetric(query_expansion=dict(qe_k=5))
    with pytest.raises(TypeError, match='re_ranking'):
        VideoReIDMetric(re_ranking=True)

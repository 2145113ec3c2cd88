"""Average query expansion against fast-reid's per-row loop."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmdcct.evaluation.functional import average_query_expansion


def reference_aqe(query_feat, gallery_feat, qe_times=1, qe_k=5, alpha=3.0):
    """fast-reid's ``aqe`` transcribed row by row (the top-k by a stable
    argsort, which fixes the order of equal similarities)."""
    num_query = query_feat.shape[0]
    all_feat = torch.cat((query_feat, gallery_feat), dim=0)
    norm_feat = F.normalize(all_feat, p=2, dim=1)
    all_feat = all_feat.numpy()
    for _ in range(qe_times):
        all_feat_list = []
        sims = torch.mm(norm_feat, norm_feat.t()).numpy()
        for sim in sims:
            init_rank = np.argsort(-sim, kind='stable')
            weights = sim[init_rank[:qe_k]].reshape((-1, 1))
            weights = np.power(weights, alpha)
            all_feat_list.append(
                np.mean(all_feat[init_rank[:qe_k], :] * weights, axis=0))
        all_feat = np.stack(all_feat_list, axis=0)
        norm_feat = F.normalize(torch.from_numpy(all_feat), p=2, dim=1)
    return all_feat[:num_query], all_feat[num_query:]


@pytest.mark.parametrize('seed,k,alpha,times', [(0, 5, 3.0, 1),
                                                (1, 3, 1.0, 2),
                                                (2, 10, 0.0, 1)])
def test_matches_reference(seed, k, alpha, times):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((6, 12))
    feats = centres[rng.integers(0, 6, 80)] + 0.5 * rng.standard_normal(
        (80, 12))
    feats = torch.from_numpy(np.round(feats, 1).astype(np.float32))
    feats[5] = feats[6]  # duplicates: equal similarities
    q, g = feats[:20], feats[20:]
    exp_q, exp_g = reference_aqe(q, g, times, k, alpha)
    got_q, got_g = average_query_expansion(
        q, g, k=k, alpha=alpha, times=times, chunk_size=7)
    assert got_q.shape == q.shape and got_g.shape == g.shape
    np.testing.assert_allclose(got_q.numpy(), exp_q, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_g.numpy(), exp_g, rtol=1e-5, atol=1e-5)
    assert (got_q - q).abs().max() > 0.1  # the features did change


def test_k1_alpha0_is_identity_and_times0():
    q, g = torch.randn(4, 8), torch.randn(9, 8)
    got_q, got_g = average_query_expansion(q, g, k=1, alpha=0.0)
    torch.testing.assert_close(got_q, q)
    torch.testing.assert_close(got_g, g)
    got_q, _ = average_query_expansion(q, g, times=0)
    torch.testing.assert_close(got_q, q)


def test_bad_arguments():
    q, g = torch.randn(4, 8), torch.randn(9, 8)
    with pytest.raises(ValueError, match='`k`'):
        average_query_expansion(q, g, k=0)
    with pytest.raises(ValueError, match='same C'):
        average_query_expansion(q, torch.randn(9, 7))
    opposite = torch.cat([torch.ones(1, 8), -torch.ones(1, 8)])
    with pytest.raises(ValueError, match='negative'):
        average_query_expansion(opposite, opposite, k=4, alpha=2.5)

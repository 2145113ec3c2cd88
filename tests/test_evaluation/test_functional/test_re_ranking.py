"""k-reciprocal re-ranking against the authors' per-query algorithm."""
import numpy as np
import pytest
import torch

from mmdcct.evaluation.functional import (compute_distance, re_ranking,
                                          re_ranking_from_features)


def reference_re_ranking(q_g_dist, q_q_dist, g_g_dist, k1=20, k2=6,
                         lambda_value=0.3):
    """The authors' public re_ranking (Zhong et al., CVPR 2017, as copied
    into torchreid / fast-reid), transcribed loop for loop; the only change
    is a stable argsort, which fixes the order of equal distances."""
    original_dist = np.concatenate([
        np.concatenate([q_q_dist, q_g_dist], axis=1),
        np.concatenate([q_g_dist.T, g_g_dist], axis=1)
    ], axis=0)
    original_dist = np.power(original_dist, 2).astype(np.float32)
    original_dist = np.transpose(1. * original_dist /
                                 np.max(original_dist, axis=0))
    V = np.zeros_like(original_dist).astype(np.float32)
    initial_rank = np.argsort(original_dist, kind='stable').astype(np.int32)

    query_num = q_g_dist.shape[0]
    gallery_num = q_g_dist.shape[0] + q_g_dist.shape[1]
    all_num = gallery_num

    for i in range(all_num):
        forward_k_neigh_index = initial_rank[i, :k1 + 1]
        backward_k_neigh_index = initial_rank[forward_k_neigh_index, :k1 + 1]
        fi = np.where(backward_k_neigh_index == i)[0]
        k_reciprocal_index = forward_k_neigh_index[fi]
        k_reciprocal_expansion_index = k_reciprocal_index
        for j in range(len(k_reciprocal_index)):
            candidate = k_reciprocal_index[j]
            half = int(np.around(k1 / 2.)) + 1
            candidate_forward_k_neigh_index = initial_rank[candidate, :half]
            candidate_backward_k_neigh_index = initial_rank[
                candidate_forward_k_neigh_index, :half]
            fi_candidate = np.where(
                candidate_backward_k_neigh_index == candidate)[0]
            candidate_k_reciprocal_index = candidate_forward_k_neigh_index[
                fi_candidate]
            if len(np.intersect1d(candidate_k_reciprocal_index,
                                  k_reciprocal_index)) > 2. / 3 * len(
                                      candidate_k_reciprocal_index):
                k_reciprocal_expansion_index = np.append(
                    k_reciprocal_expansion_index, candidate_k_reciprocal_index)
        k_reciprocal_expansion_index = np.unique(k_reciprocal_expansion_index)
        weight = np.exp(-original_dist[i, k_reciprocal_expansion_index])
        V[i, k_reciprocal_expansion_index] = 1. * weight / np.sum(weight)
    original_dist = original_dist[:query_num, ]
    if k2 != 1:
        V_qe = np.zeros_like(V, dtype=np.float32)
        for i in range(all_num):
            V_qe[i, :] = np.mean(V[initial_rank[i, :k2], :], axis=0)
        V = V_qe
    invIndex = []
    for i in range(gallery_num):
        invIndex.append(np.where(V[:, i] != 0)[0])
    jaccard_dist = np.zeros_like(original_dist, dtype=np.float32)
    for i in range(query_num):
        temp_min = np.zeros(shape=[1, gallery_num], dtype=np.float32)
        indNonZero = np.where(V[i, :] != 0)[0]
        indImages = [invIndex[ind] for ind in indNonZero]
        for j in range(len(indNonZero)):
            temp_min[0, indImages[j]] = temp_min[0, indImages[j]] + np.minimum(
                V[i, indNonZero[j]], V[indImages[j], indNonZero[j]])
        jaccard_dist[i] = 1 - temp_min / (2. - temp_min)
    final_dist = jaccard_dist * (1 - lambda_value) + original_dist * \
        lambda_value
    return final_dist[:query_num, query_num:]


def _clustered(rng, num, dim=16, num_ids=12, quantise=False):
    centres = rng.standard_normal((num_ids, dim))
    feats = centres[rng.integers(0, num_ids, num)] + 0.6 * rng.standard_normal(
        (num, dim))
    if quantise:  # few distinct values: many equal distances
        feats = np.round(feats)
    return feats.astype(np.float32)


def _euclidean(a, b):
    return compute_distance(a, b, 'euclidean').numpy()


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('ties', [False, True])
def test_matches_reference(seed, ties):
    rng = np.random.default_rng(seed)
    q = _clustered(rng, 30, quantise=ties)
    g = _clustered(rng, 200, quantise=ties)
    if ties:  # exact duplicates too
        g[:10] = g[10:20]
        q[:3] = g[50:53]
    q_g, q_q, g_g = _euclidean(q, g), _euclidean(q, q), _euclidean(g, g)
    expected = reference_re_ranking(q_g, q_q, g_g)
    # small chunks: every code path crosses chunk borders
    got = re_ranking(q_g, q_q, g_g, chunk_size=7)
    assert got.shape == (30, 200) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)
    # the ranking barely moves: only float summation order differs
    assert (np.argsort(got, 1, kind='stable')[:, :10] ==
            np.argsort(expected, 1, kind='stable')[:, :10]).mean() > 0.99
    # and re-ranking changes the distances substantially
    assert np.abs(got - q_g**2 / (q_g**2).max()).max() > 0.1


@pytest.mark.parametrize('k1,k2,lambda_value', [(5, 1, 0.0), (7, 3, 1.0),
                                                (1, 2, 0.5), (40, 6, 0.3)])
def test_matches_reference_params(k1, k2, lambda_value):
    rng = np.random.default_rng(3)
    q, g = _clustered(rng, 20), _clustered(rng, 60)
    q_g, q_q, g_g = _euclidean(q, g), _euclidean(q, q), _euclidean(g, g)
    expected = reference_re_ranking(q_g, q_q, g_g, k1, k2, lambda_value)
    got = re_ranking(
        torch.from_numpy(q_g), q_q, g_g, k1, k2, lambda_value, chunk_size=11)
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)


def test_non_symmetric_inputs_follow_reference():
    # the reference ranks the columns of [[q_q, q_g], [q_g.T, g_g]]
    rng = np.random.default_rng(4)
    q, g = _clustered(rng, 15), _clustered(rng, 40)
    q_g = _euclidean(q, g)
    q_q = _euclidean(q, q) * rng.uniform(0.8, 1.2, (15, 15))
    g_g = _euclidean(g, g) * rng.uniform(0.8, 1.2, (40, 40))
    np.testing.assert_allclose(
        re_ranking(q_g, q_q, g_g, k1=6, k2=3),
        reference_re_ranking(q_g, q_q, g_g, 6, 3),
        rtol=0,
        atol=2e-6)


@pytest.mark.parametrize('metric', ['euclidean', 'cosine'])
def test_from_features_matches_matrices(metric):
    rng = np.random.default_rng(5)
    q, g = _clustered(rng, 25), _clustered(rng, 90)
    dist = lambda a, b: compute_distance(a, b, metric).numpy()  # noqa: E731
    expected = re_ranking(dist(q, g), dist(q, q), dist(g, g), k1=8, k2=4)
    got = re_ranking_from_features(
        torch.from_numpy(q), g, metric, k1=8, k2=4, chunk_size=13)
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)


def test_scale_invariant():
    rng = np.random.default_rng(6)
    q, g = _clustered(rng, 20), _clustered(rng, 70)
    q_g, q_q, g_g = _euclidean(q, g), _euclidean(q, q), _euclidean(g, g)
    base = re_ranking(q_g, q_q, g_g, k1=8, k2=3)
    np.testing.assert_allclose(
        re_ranking(4 * q_g, 4 * q_q, 4 * g_g, k1=8, k2=3), base, atol=1e-6)


def test_mars_protocol_gallery_contains_queries():
    # queries appended to the gallery: the query's own copy is its nearest
    rng = np.random.default_rng(7)
    q, g = _clustered(rng, 12), _clustered(rng, 50)
    g = np.concatenate([g, q])
    q_g, q_q, g_g = _euclidean(q, g), _euclidean(q, q), _euclidean(g, g)
    got = re_ranking(q_g, q_q, g_g, k1=6, k2=3)
    np.testing.assert_allclose(
        got, reference_re_ranking(q_g, q_q, g_g, 6, 3), rtol=0, atol=2e-6)
    assert (got.argmin(axis=1) == 50 + np.arange(12)).all()


def test_bad_inputs():
    d = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match='q_q_dist'):
        re_ranking(d, np.zeros((2, 2)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match='g_g_dist'):
        re_ranking(d, np.zeros((3, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match='k1'):
        re_ranking(d, np.zeros((3, 3)), np.zeros((4, 4)), k1=0)
    with pytest.raises(ValueError, match='lambda_value'):
        re_ranking(d, np.zeros((3, 3)), np.zeros((4, 4)), lambda_value=2)
    nan = d.copy()
    nan[0, 0] = np.nan
    with pytest.raises(ValueError, match='q_g_dist.*NaN'):
        re_ranking(nan, np.zeros((3, 3)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match='metric'):
        re_ranking_from_features(np.ones((2, 3)), np.ones((4, 3)), 'l1')

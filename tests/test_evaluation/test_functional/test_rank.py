"""Tests of the camera-aware CMC / mAP / mINP and of the distance helper."""
import numpy as np
import pytest
import torch

from mmdcct.evaluation.functional import (compute_distance, distance_chunks,
                                          evaluate_rank,
                                          evaluate_rank_from_features,
                                          rank_topk)

TOPK = (1, 5, 10, 20)


def reference_rank(distmat, q_pids, g_pids, q_camids, g_camids, topk=TOPK):
    """Plain per-query reference of the evaluation protocol, step by step.

    For every query: rank the gallery by ascending distance, ties by gallery
    index; drop the entries with the same id and the same camera; skip the
    query if no true match (same id) is left; AP = mean of precision@k over
    the ranks k of the true matches; INP = #true matches / rank of the last
    one; CMC@k = a true match within the first k entries.
    """
    distmat = np.asarray(distmat)
    aps, inps, first_ranks = [], [], []
    for i in range(distmat.shape[0]):
        order = sorted(
            range(distmat.shape[1]), key=lambda j: (distmat[i, j], j))
        kept = [
            j for j in order
            if not (g_pids[j] == q_pids[i] and g_camids[j] == q_camids[i])
        ]
        match_ranks = [
            rank for rank, j in enumerate(kept, start=1)
            if g_pids[j] == q_pids[i]
        ]
        if not match_ranks:
            continue
        precisions = [
            num_hits / rank
            for num_hits, rank in enumerate(match_ranks, start=1)
        ]
        aps.append(sum(precisions) / len(precisions))
        inps.append(len(match_ranks) / match_ranks[-1])
        first_ranks.append(match_ranks[0])
    num_valid = len(aps)
    out = {
        'mAP': 100.0 * sum(aps) / num_valid,
        'mINP': 100.0 * sum(inps) / num_valid,
    }
    for k in topk:
        out[f'R{k}'] = 100.0 * sum(r <= k for r in first_ranks) / num_valid
    out['num_valid_queries'] = num_valid
    out['num_skipped_queries'] = distmat.shape[0] - num_valid
    return out


def random_problem(seed,
                   num_query=30,
                   num_gallery=120,
                   num_ids=10,
                   num_cams=3):
    """Random ids / cameras (many same-id-same-camera collisions) and
    random float64 distances (no ties)."""
    rng = np.random.default_rng(seed)
    q_pids = rng.integers(0, num_ids, num_query)
    g_pids = rng.integers(0, num_ids, num_gallery)
    q_camids = rng.integers(0, num_cams, num_query)
    g_camids = rng.integers(0, num_cams, num_gallery)
    distmat = rng.random((num_query, num_gallery))
    return distmat, q_pids, g_pids, q_camids, g_camids


def assert_same(result, expected, tol=1e-6):
    assert set(result) == set(expected)
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=tol), key
    assert isinstance(result['mAP'], float)
    assert isinstance(result['num_valid_queries'], int)


@pytest.mark.parametrize('seed', range(6))
def test_matches_reference_on_random_data(seed):
    problem = random_problem(seed)
    expected = reference_rank(*problem)
    assert_same(evaluate_rank(*problem), expected)
    # chunking never changes the numbers
    for chunk_size in (1, 7, 1000):
        assert evaluate_rank(
            *problem, chunk_size=chunk_size) == evaluate_rank(*problem)


def test_torch_inputs_and_float32():
    distmat, q_pids, g_pids, q_camids, g_camids = random_problem(11)
    distmat = distmat.astype(np.float32)
    expected = reference_rank(distmat, q_pids, g_pids, q_camids, g_camids)
    result = evaluate_rank(
        torch.from_numpy(distmat), torch.from_numpy(q_pids),
        torch.from_numpy(g_pids), torch.from_numpy(q_camids),
        torch.from_numpy(g_camids))
    assert_same(result, expected)


@pytest.mark.parametrize('dtype', [np.int64, np.float32, np.float64])
def test_ties_are_broken_by_gallery_index(dtype):
    distmat, q_pids, g_pids, q_camids, g_camids = random_problem(3)
    distmat = np.random.default_rng(3).integers(0, 4, distmat.shape)
    distmat = distmat.astype(dtype)
    expected = reference_rank(distmat, q_pids, g_pids, q_camids, g_camids)
    assert_same(
        evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids), expected)


def test_float64_values_colliding_in_float32():
    # distinct float64 values that all round to the same float32
    distmat, q_pids, g_pids, q_camids, g_camids = random_problem(5)
    distmat = 1.0 + distmat * 1e-12
    assert len(np.unique(distmat.astype(np.float32))) == 1
    expected = reference_rank(distmat, q_pids, g_pids, q_camids, g_camids)
    assert_same(
        evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids), expected)


def _distances(kind, problem, seed):
    """Distance matrices that exercise the different ranking paths."""
    distmat, q_pids, g_pids = problem[:3]
    rng = np.random.default_rng(seed)
    same_id = q_pids[:, None] == g_pids[None, :]
    if kind == 'good':  # matches near the top: few candidates
        return np.where(same_id, 0.1 * distmat, distmat)
    if kind == 'good_ties':  # ... with many float32 ties
        quantized = np.round(distmat * 20).astype(np.float32)
        return np.where(same_id, np.round(quantized / 8), quantized)
    if kind == 'good_f64_collisions':  # distinct float64, equal float32
        return np.where(same_id, 0.5, 1.0) + rng.random(distmat.shape) * 1e-12
    if kind == 'few_ties':  # a handful of float32 ties
        out = distmat.astype(np.float32)
        idx = rng.integers(0, out.shape[1], size=(out.shape[0], 2))
        out[np.arange(out.shape[0]), idx[:, 0]] = out[np.arange(out.shape[0]),
                                                      idx[:, 1]]
        return out
    if kind == 'all_equal':
        return np.ones_like(distmat, dtype=np.float32)
    raise ValueError(kind)


@pytest.mark.parametrize(
    'kind',
    ['good', 'good_ties', 'good_f64_collisions', 'few_ties', 'all_equal'])
@pytest.mark.parametrize('seed', [0, 1])
def test_all_ranking_paths_match_reference(kind, seed):
    problem = random_problem(seed, num_query=40, num_gallery=300)
    distmat = _distances(kind, problem, seed)
    expected = reference_rank(distmat, *problem[1:])
    for chunk_size in (None, 9):
        assert_same(
            evaluate_rank(distmat, *problem[1:], chunk_size=chunk_size),
            expected)


def test_many_tied_same_id_entries():
    # 2 identities: ~150 same-id entries per query, all tied
    problem = random_problem(4, num_query=40, num_gallery=300, num_ids=2)
    distmat = np.full(problem[0].shape, 0.5, dtype=np.float32)
    distmat[:, ::7] = 0.25
    assert_same(
        evaluate_rank(distmat, *problem[1:]),
        reference_rank(distmat, *problem[1:]))


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_stable_positions_match_stable_argsort(dtype):
    from mmdcct.evaluation.functional import rank
    rng = np.random.default_rng(0)
    dist = rng.integers(0, 30, (17, 400)).astype(dtype)
    if dtype == np.float64:  # float32 collisions of distinct values
        dist += rng.integers(0, 2, dist.shape) * 1e-12
    dist[:, :5] = -0.0
    dist[:, 5:10] = 0.0
    dist[:, 10:12] = np.inf
    rows = np.repeat(np.arange(17), 40)
    cols = rng.integers(0, 400, rows.shape[0])
    stable_rank = np.argsort(
        np.argsort(dist, axis=1, kind='stable'), axis=1, kind='stable')
    expected = stable_rank[rows, cols]
    np.testing.assert_array_equal(
        rank._stable_positions(dist, rows, cols, np.full(17, np.inf)),
        expected)
    # with limits (most / few entries within): exact within, after all
    # entries within for the entries beyond
    for limit in (20.0, 3.0):
        limits = np.full(17, limit)
        num_near = (dist <= limits[:, None]).sum(axis=1)[rows]
        near = dist[rows, cols] <= limit
        pos = rank._stable_positions(dist, rows, cols, limits)
        np.testing.assert_array_equal(pos[near], expected[near])
        assert np.all(pos[~near] >= num_near[~near])
        assert near.any() and not near.all()


@pytest.mark.parametrize('kind', ['random', 'ties', 'all_equal', 'inf'])
def test_rank_topk_is_the_stable_order(kind):
    rng = np.random.default_rng(2)
    dist = rng.random((9, 50)).astype(np.float32)
    if kind == 'ties':
        dist = np.round(dist * 4)
    elif kind == 'all_equal':
        dist[:] = 0.5
    elif kind == 'inf':
        dist[:, ::3] = np.inf
    exclude = rng.random(dist.shape) < 0.3
    exclude[0] = True  # nothing left for query 0
    exclude[1, 5:] = True  # 5 entries left for query 1
    for k in (1, 7, 50, None):
        indices, distances = rank_topk(torch.from_numpy(dist), k, exclude)
        assert indices.shape == distances.shape == (9, k or 50)
        assert indices.dtype == np.int64 and distances.dtype == np.float32
        for i in range(9):
            kept = np.flatnonzero(~exclude[i])
            expected = kept[np.argsort(dist[i, kept], kind='stable')][:k]
            got = indices[i][indices[i] >= 0]
            np.testing.assert_array_equal(got, expected)
            np.testing.assert_array_equal(distances[i, :len(got)],
                                          dist[i, expected])
            assert np.all(distances[i, len(got):] == np.inf)
        # without a mask: the plain stable argsort
        indices, _ = rank_topk(dist, k)
        np.testing.assert_array_equal(
            indices, np.argsort(dist, axis=1, kind='stable')[:, :k])
    with pytest.raises(ValueError, match='exclude'):
        rank_topk(dist, 3, exclude[:, :4])
    with pytest.raises(ValueError, match='topk'):
        rank_topk(dist, 0)


def test_hand_checked_example():
    # gallery:   g0      g1      g2      g3      g4
    #   pid       1       2       1       3       1
    #   camid     0       0       1       1       2
    g_pids = [1, 2, 1, 3, 1]
    g_camids = [0, 0, 1, 1, 2]
    q_pids = [1, 2, 3]
    q_camids = [0, 1, 0]
    distmat = [
        [0.1, 0.2, 0.5, 0.3, 0.4],
        [0.4, 0.3, 0.1, 0.2, 0.5],
        [0.2, 0.2, 0.2, 0.2, 0.2],
    ]
    # q0 (pid 1, cam 0): order g0 g1 g3 g4 g2; g0 is same id + camera and
    #   removed -> kept g1 g3 g4* g2*: true matches at ranks 3 and 4.
    #   AP = (1/3 + 2/4) / 2 = 5/12, INP = 2/4, first rank 3.
    # q1 (pid 2, cam 1): order g2 g3 g1* g0 g4, nothing removed: match at
    #   rank 3. AP = 1/3, INP = 1/3, first rank 3.
    # q2 (pid 3, cam 0): all distances tie -> gallery order g0 g1 g2 g3* g4:
    #   match at rank 4. AP = 1/4, INP = 1/4, first rank 4.
    # mAP = (5/12 + 4/12 + 3/12) / 3 = 1/3; mINP = (1/2 + 1/3 + 1/4) / 3 =
    # 13/36; R1 = 0, R3 = 2/3, R5 = 1.
    result = evaluate_rank(
        distmat, q_pids, g_pids, q_camids, g_camids, topk=(1, 3, 5))
    assert result == pytest.approx({
        'mAP': 100 / 3,
        'mINP': 1300 / 36,
        'R1': 0.0,
        'R3': 200 / 3,
        'R5': 100.0,
        'num_valid_queries': 3,
        'num_skipped_queries': 0,
    })
    assert list(result) == [
        'mAP', 'mINP', 'R1', 'R3', 'R5', 'num_valid_queries',
        'num_skipped_queries'
    ]


def test_queries_without_match_are_skipped_and_counted():
    g_pids = np.array([1, 1, 2, 2, 3])
    g_camids = np.array([0, 1, 0, 0, 0])
    # q0: match g1 (other camera) -> valid
    # q1: pid 2 only in camera 0 (its own) -> skipped
    # q2: pid 9 not in the gallery -> skipped
    q_pids = np.array([1, 2, 9])
    q_camids = np.array([0, 0, 1])
    distmat = np.array([[0.5, 0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4, 0.5],
                        [0.1, 0.2, 0.3, 0.4, 0.5]])
    result = evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids)
    assert result['num_valid_queries'] == 1
    assert result['num_skipped_queries'] == 2
    # q0: kept order g1* g2 g3 g4 -> rank 1
    assert result['mAP'] == pytest.approx(100.0)
    assert result['R1'] == pytest.approx(100.0)
    assert result == pytest.approx(
        reference_rank(distmat, q_pids, g_pids, q_camids, g_camids))


def test_no_query_with_a_match_raises():
    g_pids = np.array([1, 2, 3])
    g_camids = np.array([0, 0, 0])
    q_pids = np.array([1, 2, 7])
    q_camids = np.array([0, 0, 0])  # only same-camera entries or absent ids
    with pytest.raises(ValueError, match='None of the 3 queries'):
        evaluate_rank(np.random.rand(3, 3), q_pids, g_pids, q_camids, g_camids)


def test_invalid_inputs():
    distmat, q_pids, g_pids, q_camids, g_camids = random_problem(0)
    with pytest.raises(ValueError, match='q_pids'):
        evaluate_rank(distmat, q_pids[:-1], g_pids, q_camids, g_camids)
    with pytest.raises(ValueError, match='2-D'):
        evaluate_rank(distmat[0], q_pids, g_pids, q_camids, g_camids)
    bad = distmat.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        evaluate_rank(bad, q_pids, g_pids, q_camids, g_camids)
    with pytest.raises(ValueError, match='topk'):
        evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, topk=(0, ))


def _reference_distance(q, g, metric):
    q, g = q.double(), g.double()
    if metric == 'cosine':
        q = q / q.norm(dim=1, keepdim=True)
        g = g / g.norm(dim=1, keepdim=True)
        return 1 - q @ g.T
    return torch.cdist(q, g)


@pytest.mark.parametrize('metric', ['cosine', 'euclidean'])
def test_compute_distance(metric):
    torch.manual_seed(0)
    q, g = torch.randn(13, 8), torch.randn(29, 8)
    dist = compute_distance(q, g, metric=metric)
    assert dist.shape == (13, 29) and dist.dtype == torch.float32
    torch.testing.assert_close(
        dist.double(), _reference_distance(q, g, metric), atol=1e-5, rtol=1e-5)
    # chunking does not change the values; numpy inputs are accepted
    torch.testing.assert_close(
        compute_distance(q.numpy(), g.numpy(), metric, chunk_size=4), dist)
    with pytest.raises(ValueError, match='Unknown distance'):
        compute_distance(q, g, metric='hamming')
    with pytest.raises(ValueError, match='dimensions'):
        compute_distance(q, g[:, :4])
    # the chunks are the rows of the full matrix
    chunks = list(distance_chunks(q, g, metric, chunk_size=5))
    assert [start for start, _ in chunks] == [0, 5, 10]
    torch.testing.assert_close(torch.cat([d for _, d in chunks]), dist)
    assert compute_distance(q[:0], g, metric).shape == (0, 29)


@pytest.mark.parametrize('metric', ['cosine', 'euclidean'])
def test_evaluate_rank_from_features(metric):
    rng = np.random.default_rng(1)
    num_ids = 8
    centers = rng.normal(size=(num_ids, 16))
    q_pids = rng.integers(0, num_ids, 25)
    g_pids = rng.integers(0, num_ids, 90)
    q_camids = rng.integers(0, 3, 25)
    g_camids = rng.integers(0, 3, 90)
    q = torch.from_numpy(centers[q_pids] + rng.normal(size=(25, 16))).float()
    g = torch.from_numpy(centers[g_pids] + rng.normal(size=(90, 16))).float()
    labels = (q_pids, g_pids, q_camids, g_camids)
    expected = evaluate_rank(compute_distance(q, g, metric), *labels)
    for chunk_size in (None, 4):
        result = evaluate_rank_from_features(
            q, g, *labels, metric=metric, chunk_size=chunk_size)
        assert_same(result, expected, tol=1e-9)
    assert_same(
        expected,
        reference_rank(compute_distance(q, g, metric).numpy(), *labels))

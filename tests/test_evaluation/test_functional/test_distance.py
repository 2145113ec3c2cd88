"""``compute_distance`` / ``distance_chunks`` against NumPy references:
values, chunking, dtypes and input errors."""
import numpy as np
import pytest
import torch

from mmdcct.evaluation.functional import (DISTANCE_METRICS, compute_distance,
                                          distance_chunks)


def _np_cosine(q, g):
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    g = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
    return 1.0 - q @ g.T


def _np_euclidean(q, g):
    return np.sqrt(((q[:, None, :] - g[None, :, :])**2).sum(-1))


REFERENCES = dict(cosine=_np_cosine, euclidean=_np_euclidean)


def _feats(n, c=16, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=(n, c)).astype(dtype)


def test_metric_names():
    assert DISTANCE_METRICS == ('cosine', 'euclidean')


@pytest.mark.parametrize('metric', DISTANCE_METRICS)
def test_matches_numpy_reference(metric):
    q, g = _feats(7, seed=1), _feats(11, seed=2)
    dist = compute_distance(torch.from_numpy(q), torch.from_numpy(g), metric)
    assert dist.shape == (7, 11) and dist.dtype == torch.float64
    np.testing.assert_allclose(
        dist.numpy(), REFERENCES[metric](q, g), rtol=1e-10, atol=1e-10)
    # float32 inputs: float32 result, close to the float64 reference
    dist32 = compute_distance(
        torch.from_numpy(q).float(), torch.from_numpy(g).float(), metric)
    assert dist32.dtype == torch.float32
    np.testing.assert_allclose(
        dist32.numpy(), REFERENCES[metric](q, g), rtol=1e-5, atol=1e-5)


def test_cosine_range_and_scale_invariance():
    q, g = _feats(5, seed=3), _feats(6, seed=4)
    g[0] = q[0] * 7.5  # same direction
    g[1] = -q[1]  # opposite direction
    dist = compute_distance(q, g, 'cosine').numpy()
    assert dist[0, 0] == pytest.approx(0.0, abs=1e-12)
    assert dist[1, 1] == pytest.approx(2.0, abs=1e-12)
    assert dist.min() >= -1e-12 and dist.max() <= 2 + 1e-12
    np.testing.assert_allclose(
        compute_distance(q * 3.0, g * 0.1, 'cosine').numpy(), dist,
        atol=1e-12)


def test_zero_features_give_finite_distances():
    q = np.zeros((2, 4))
    q[1] = [1, 0, 0, 0]
    g = np.zeros((3, 4))
    g[2] = [0, 1, 0, 0]
    cos = compute_distance(q, g, 'cosine')
    assert torch.isfinite(cos).all()
    # a zero vector has cosine 0 with everything: distance 1
    torch.testing.assert_close(cos, torch.ones(2, 3, dtype=torch.float64))
    euc = compute_distance(q, g, 'euclidean')
    torch.testing.assert_close(
        euc, torch.from_numpy(_np_euclidean(q, g)), rtol=0, atol=1e-12)


def test_euclidean_of_identical_rows_is_zero_not_nan():
    # |q|^2 + |g|^2 - 2 q.g can round below 0: clamped before the sqrt
    q = _feats(4, c=64, seed=5, dtype=np.float32) * 1e3
    dist = compute_distance(q, q.copy(), 'euclidean')
    assert not torch.isnan(dist).any()
    assert (dist >= 0).all()
    assert dist.diagonal().max() < 1e-3 * np.linalg.norm(q, axis=1).min()


@pytest.mark.parametrize('metric', DISTANCE_METRICS)
@pytest.mark.parametrize('chunk_size', [1, 3, 7, 100])
def test_chunking_does_not_change_the_result(metric, chunk_size):
    q, g = _feats(7, seed=6), _feats(9, seed=7)
    whole = compute_distance(q, g, metric, chunk_size=1024)
    chunked = compute_distance(q, g, metric, chunk_size=chunk_size)
    torch.testing.assert_close(chunked, whole, rtol=1e-12, atol=1e-12)
    chunks = list(distance_chunks(q, g, metric, chunk_size=chunk_size))
    assert [start for start, _ in chunks] == list(range(0, 7, chunk_size))
    assert [d.shape for _, d in chunks] == [
        (min(chunk_size, 7 - start), 9) for start, _ in chunks
    ]
    torch.testing.assert_close(
        torch.cat([d for _, d in chunks]), chunked, rtol=0, atol=0)


def test_distance_chunks_leaves_the_gallery_untouched():
    g = torch.from_numpy(_feats(5, seed=8))
    before = g.clone()
    for _ in distance_chunks(torch.from_numpy(_feats(3)), g, 'cosine', 2):
        pass
    assert torch.equal(g, before)


@pytest.mark.parametrize('q_dtype, g_dtype, expected', [
    (torch.float32, torch.float32, torch.float32),
    (torch.float64, torch.float64, torch.float64),
    (torch.float32, torch.float64, torch.float64),
    (torch.float16, torch.float16, torch.float32),
    (torch.bfloat16, torch.float32, torch.float32),
    (torch.int64, torch.int32, torch.float32),
])
def test_output_dtype(q_dtype, g_dtype, expected):
    q = torch.arange(12).reshape(3, 4).to(q_dtype)
    g = (torch.arange(8).reshape(2, 4) * 2 + 1).to(g_dtype)
    for metric in DISTANCE_METRICS:
        dist = compute_distance(q, g, metric)
        assert dist.dtype == expected
        ref = REFERENCES[metric](q.double().numpy(), g.double().numpy())
        np.testing.assert_allclose(dist.double().numpy(), ref, rtol=1e-5,
                                   atol=1e-4)


def test_numpy_inputs():
    q, g = _feats(3, dtype=np.float32), _feats(4, seed=9, dtype=np.float32)
    dist = compute_distance(q, g, 'euclidean')
    assert isinstance(dist, torch.Tensor) and dist.dtype == torch.float32
    np.testing.assert_allclose(dist.numpy(), _np_euclidean(q, g), rtol=1e-5)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_empty_query_or_gallery(dtype):
    g = torch.randn(4, 8, dtype=dtype)
    empty = compute_distance(torch.zeros(0, 8, dtype=dtype), g)
    assert empty.shape == (0, 4) and empty.dtype == dtype
    no_gallery = compute_distance(g, torch.zeros(0, 8, dtype=dtype))
    assert no_gallery.shape == (4, 0) and no_gallery.dtype == dtype


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(metric='manhattan'), ValueError, "Unknown distance metric 'manh"),
    (dict(chunk_size=0), ValueError, '`chunk_size` must be >= 1, got 0'),
    (dict(query_feats=np.zeros(4)), ValueError,
     r'`query_feats` must be 2-D \(N, C\), got shape \(4,\)'),
    (dict(gallery_feats=np.zeros((2, 3, 4))), ValueError,
     r'`gallery_feats` must be 2-D \(N, C\), got shape \(2, 3, 4\)'),
    (dict(gallery_feats=np.zeros((2, 5))), ValueError,
     'different dimensions: 4 vs 5'),
])
def test_errors(kwargs, error, match):
    args = dict(query_feats=np.ones((3, 4)), gallery_feats=np.ones((2, 4)))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        compute_distance(**args)
    # the generator checks its arguments on the first step as well
    with pytest.raises(error, match=match):
        next(distance_chunks(**args))
    # an empty query does not skip the checks
    if 'query_feats' not in kwargs:
        with pytest.raises(error, match=match):
            compute_distance(**dict(args, query_feats=np.ones((0, 4))))

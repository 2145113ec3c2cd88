import numpy as np
import pytest

from mmdcct.datasets.transforms import (RestrictedRandomSampling,
                                        rrs_chunk_bounds)
from mmdcct.registry import TRANSFORMS


def _results(n):
    return dict(img_paths=[f'f{i:03d}.jpg' for i in range(n)], pid=0)


def _check_basic(out, n, t=8):
    inds = out['frame_inds']
    assert isinstance(inds, np.ndarray) and inds.dtype == np.int64
    assert inds.shape == (t, )
    assert out['num_clips'] == 1 and out['clip_len'] == t
    assert inds.min() >= 0 and inds.max() < n
    assert np.all(np.diff(inds) >= 0)  # temporal order
    return inds


@pytest.mark.parametrize('n', [8, 9, 15, 23, 100, 1000])
def test_chunks_partition(n):
    starts, ends = rrs_chunk_bounds(n, 8)
    assert starts[0] == 0 and ends[-1] == n
    assert np.all(ends[:-1] == starts[1:])  # contiguous, cover everything
    sizes = ends - starts
    assert sizes.min() >= 1 and sizes.max() - sizes.min() <= 1


@pytest.mark.parametrize('n', [23, 8, 3, 1])
def test_random_mode_one_per_chunk(n):
    t = RestrictedRandomSampling(num_frames=8, mode='random')
    starts, ends = rrs_chunk_bounds(n, 8)
    seen = set()
    np.random.seed(0)
    for _ in range(200):
        inds = _check_basic(t(_results(n)), n)
        assert np.all(inds >= starts) and np.all(inds < ends)
        seen.update(inds.tolist())
    # every frame reachable (for n >= T each chunk is sampled uniformly)
    assert seen == set(range(n))


def test_random_mode_is_random_and_seeded():
    t = RestrictedRandomSampling(num_frames=8, mode='random')
    np.random.seed(123)
    a = [t(_results(23))['frame_inds'] for _ in range(5)]
    np.random.seed(123)
    b = [t(_results(23))['frame_inds'] for _ in range(5)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert len({tuple(x) for x in a}) > 1


def test_begin_mode_long():
    t = RestrictedRandomSampling(num_frames=8, mode='begin')
    inds = _check_basic(t(_results(23)), 23)
    # chunk k starts at floor(k * 23 / 8)
    assert inds.tolist() == [0, 2, 5, 8, 11, 14, 17, 20]
    np.random.seed(0)
    assert np.array_equal(t(_results(23))['frame_inds'], inds)
    np.random.seed(1)
    assert np.array_equal(t(_results(23))['frame_inds'], inds)


def test_exact_length_uses_every_frame():
    for mode in ('random', 'begin'):
        t = RestrictedRandomSampling(num_frames=8, mode=mode)
        inds = _check_basic(t(_results(8)), 8)
        assert inds.tolist() == list(range(8))


@pytest.mark.parametrize('mode', ['random', 'begin'])
def test_short_tracklet_padding(mode):
    t = RestrictedRandomSampling(num_frames=8, mode=mode)
    inds = _check_basic(t(_results(3)), 3)
    assert inds.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    inds = _check_basic(t(_results(1)), 1)
    assert inds.tolist() == [0] * 8
    inds = _check_basic(t(_results(5)), 5)
    assert inds.tolist() == [0, 0, 1, 1, 2, 3, 3, 4]


def test_other_num_frames_and_build():
    t = TRANSFORMS.build(
        dict(type='RestrictedRandomSampling', num_frames=4, mode='begin'))
    out = t(_results(10))
    assert out['frame_inds'].tolist() == [0, 2, 5, 7]
    assert out['clip_len'] == 4
    assert 'RestrictedRandomSampling' in repr(t)


def test_invalid_args():
    with pytest.raises(ValueError):
        RestrictedRandomSampling(mode='nope')
    with pytest.raises(ValueError):
        RestrictedRandomSampling(num_frames=0)
    with pytest.raises(ValueError):
        RestrictedRandomSampling()(_results(0))

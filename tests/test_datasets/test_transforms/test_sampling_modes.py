"""The dense RRS mode, EvenlySampleFrames, IntervalSampleFrames (the
authors' sampling) and the deprecated RestrictedRandomSampling modes that
now run them."""
import warnings

import numpy as np
import pytest

from mmdcct.datasets.transforms import (EvenlySampleFrames,
                                        IntervalSampleFrames,
                                        RestrictedRandomSampling)
from mmdcct.registry import TRANSFORMS

#: the old ``RestrictedRandomSampling`` mode -> the new transform config
MOVED = {
    'evenly': dict(type='EvenlySampleFrames'),
    'random_interval': dict(type='IntervalSampleFrames', mode='random'),
    'begin_interval': dict(type='IntervalSampleFrames', mode='begin'),
    'dense_strided': dict(type='IntervalSampleFrames', mode='dense'),
}


def _results(n):
    return dict(img_paths=[f'f{i:03d}.jpg' for i in range(n)], pid=0)


def _sample(n, type='RestrictedRandomSampling', **kwargs):
    t = TRANSFORMS.build(dict(type=type, **kwargs))
    out = t(_results(n))
    inds = out['frame_inds']
    assert inds.dtype == np.int64
    assert inds.shape == (out['num_clips'] * out['clip_len'], )
    assert inds.min() >= 0 and inds.max() < n
    return inds, out['num_clips']


def _interval(n, **kwargs):
    return _sample(n, type='IntervalSampleFrames', **kwargs)


def test_dense_23_frames_gives_3_padded_clips():
    inds, num_clips = _sample(23, num_frames=8, mode='dense')
    assert num_clips == 3
    clips = inds.reshape(3, 8).tolist()
    assert clips[0] == list(range(0, 8))
    assert clips[1] == list(range(8, 16))
    # the last clip (7 frames) is padded by in-order repetition
    assert clips[2] == [16, 16, 17, 18, 19, 20, 21, 22]
    assert set(inds.tolist()) == set(range(23))  # every frame used


@pytest.mark.parametrize('n', [1, 3, 8, 9, 16, 17, 100])
def test_dense_covers_every_frame_in_order(n):
    inds, num_clips = _sample(n, num_frames=8, mode='dense')
    assert num_clips == -(-n // 8)
    assert set(inds.tolist()) == set(range(n))
    for clip in inds.reshape(num_clips, 8):
        assert np.all(np.diff(clip) >= 0)
    if n < 8:  # one clip, padded like the RRS test sampling
        begin, _ = _sample(n, num_frames=8, mode='begin')
        assert inds.tolist() == begin.tolist()


def test_dense_max_clips_keeps_evenly_spread_clips():
    inds, num_clips = _sample(100, num_frames=8, mode='dense', max_clips=4)
    assert num_clips == 4  # of 13 clips: clips 0, 3, 6, 9
    starts = inds.reshape(4, 8)[:, 0].tolist()
    assert starts == [0, 24, 48, 72]
    inds, num_clips = _sample(20, num_frames=8, mode='dense', max_clips=4)
    assert num_clips == 3  # fewer clips than the cap: all of them


def test_evenly():
    inds, num_clips = _sample(23, num_frames=8, type='EvenlySampleFrames')
    assert num_clips == 1
    assert inds.tolist() == [0, 3, 6, 9, 12, 15, 18, 22]
    inds, _ = _sample(3, num_frames=4, type='EvenlySampleFrames')
    assert inds.tolist() == [0, 0, 1, 2]
    inds, _ = _sample(9, num_frames=1, type='EvenlySampleFrames')
    assert inds.tolist() == [4]
    np.random.seed(0)
    a, _ = _sample(57, num_frames=8, type='EvenlySampleFrames')
    np.random.seed(1)
    b, _ = _sample(57, num_frames=8, type='EvenlySampleFrames')
    assert a.tolist() == b.tolist()


@pytest.mark.parametrize('n,stride', [(64, 8), (100, 8), (63, 4), (32, 4),
                                      (31, 2), (16, 2), (15, 1), (8, 1)])
def test_interval_random_window(n, stride):
    """One frame per block of a window of 8 * stride frames."""
    np.random.seed(0)
    starts = set()
    for _ in range(100):
        inds, num_clips = _interval(n, num_frames=8, mode='random')
        assert num_clips == 1
        offsets = inds - np.arange(8) * stride  # in [start, start + stride)
        lo = max(0, int(offsets.max()) - stride + 1)
        hi = min(int(offsets.min()), n - 8 * stride)
        assert lo <= hi, (inds, stride)  # a window start fits all of them
        assert np.all(np.diff(inds) >= 1)
        starts.add((lo, hi))
    if n - 8 * stride > 2:
        assert len(starts) > 1  # random start


def test_interval_random_exact_blocks():
    # n = 64, T = 8: s = 8, the window is the whole tracklet
    np.random.seed(0)
    seen = set()
    for _ in range(200):
        inds, _ = _interval(64, num_frames=8, mode='random')
        assert np.all(inds // 8 == np.arange(8))
        seen.update(inds.tolist())
    assert seen == set(range(64))


def test_interval_random_short_tracklet():
    np.random.seed(0)
    seen = set()
    for _ in range(50):
        inds, _ = _interval(5, num_frames=8, mode='random')
        assert np.all(np.diff(inds) >= 0)  # sorted, with replacement
        seen.update(inds.tolist())
    assert seen == set(range(5))
    np.random.seed(3)
    a, _ = _interval(5, num_frames=8, mode='random')
    np.random.seed(3)
    b, _ = _interval(5, num_frames=8, mode='random')
    assert a.tolist() == b.tolist()


@pytest.mark.parametrize(
    'n,expected',
    [
        (100, list(range(0, 64, 8))),
        (64, list(range(0, 64, 8))),
        (63, list(range(0, 32, 4))),
        (20, list(range(0, 16, 2))),
        (9, list(range(8))),
        (5, [0, 1, 2, 3, 4, 0, 1, 2]),  # the authors' cyclic padding
    ])
def test_interval_begin(n, expected):
    inds, num_clips = _interval(n, num_frames=8, mode='begin')
    assert num_clips == 1 and inds.tolist() == expected


def test_interval_modes_with_other_max_interval():
    inds, _ = _interval(100, num_frames=4, mode='begin', max_interval=2)
    assert inds.tolist() == [0, 2, 4, 6]


def test_interval_dense_strided_clips():
    inds, num_clips = _interval(23, num_frames=8, mode='dense')
    # k = 23 // 8 = 2: clips (0, 2, ..., 14) and (1, 3, ..., 15)
    assert num_clips == 2
    assert inds.reshape(
        2, 8).tolist() == [list(range(0, 16, 2)),
                           list(range(1, 16, 2))]
    inds, num_clips = _interval(80, num_frames=8, mode='dense', max_clips=4)
    assert num_clips == 4  # of 10 clips: j = 0, 2, 5, 7
    assert inds.reshape(4, 8)[:, 0].tolist() == [0, 2, 5, 7]
    assert np.all(np.diff(inds.reshape(4, 8), axis=1) == 10)
    inds, num_clips = _interval(5, num_frames=8, mode='dense')
    assert num_clips == 1 and inds.tolist() == [0, 1, 2, 3, 4, 0, 1, 2]


def test_args_validated_and_repr():
    with pytest.raises(ValueError, match='max_clips'):
        RestrictedRandomSampling(mode='dense', max_clips=0)
    with pytest.raises(ValueError, match='max_interval'):
        IntervalSampleFrames(mode='begin', max_interval=0)
    with pytest.raises(ValueError, match='IntervalSampleFrames mode'):
        IntervalSampleFrames(mode='begin_interval')
    with pytest.raises(ValueError, match='num_frames'):
        EvenlySampleFrames(num_frames=0)
    t = RestrictedRandomSampling(mode='dense', max_clips=5)
    assert "mode='dense'" in repr(t) and 'max_clips=5' in repr(t)
    t = IntervalSampleFrames(mode='dense', max_interval=4)
    assert repr(t).startswith('IntervalSampleFrames(') and \
        'max_interval=4' in repr(t)
    assert repr(EvenlySampleFrames(4)) == 'EvenlySampleFrames(num_frames=4)'


def test_restricted_random_sampling_has_only_the_rrs_modes():
    assert set(RestrictedRandomSampling.MODES) == {'random', 'begin', 'dense'}
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the RRS modes do not warn
        for mode in RestrictedRandomSampling.MODES:
            RestrictedRandomSampling(mode=mode)


@pytest.mark.parametrize('mode', sorted(MOVED))
def test_deprecated_mode_warns_with_the_new_name(mode):
    new = MOVED[mode]['type']
    with pytest.warns(FutureWarning, match=f'{mode}.*deprecated.*{new}'):
        t = TRANSFORMS.build(
            dict(type='RestrictedRandomSampling', num_frames=8, mode=mode))
    assert t.mode == mode  # an old config still reads the same


@pytest.mark.parametrize('mode', sorted(MOVED))
def test_deprecated_mode_gives_the_new_transform_frames(mode):
    kwargs = dict(num_frames=8, max_clips=3, max_interval=4)
    if mode == 'evenly':
        new_cfg = dict(MOVED[mode], num_frames=8)
    else:
        new_cfg = dict(MOVED[mode], **kwargs)
    with pytest.warns(FutureWarning):
        old = TRANSFORMS.build(
            dict(type='RestrictedRandomSampling', mode=mode, **kwargs))
    new = TRANSFORMS.build(new_cfg)
    for n in (1, 3, 7, 8, 9, 23, 31, 32, 33, 64, 100):
        for seed in range(4):
            np.random.seed(seed)
            a = old(_results(n))
            np.random.seed(seed)
            b = new(_results(n))
            assert a['frame_inds'].tolist() == b['frame_inds'].tolist(), n
            assert (a['num_clips'], a['clip_len']) == (b['num_clips'],
                                                       b['clip_len'])

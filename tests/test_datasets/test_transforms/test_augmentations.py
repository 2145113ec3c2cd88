"""Tracklet consistency of the broadcast augmentations (paper Sec. IV-B)."""
import numpy as np
import pytest
from mmcv.transforms import TransformBroadcaster
from mmengine.registry import DefaultScope

from mmdcct.datasets.transforms import (TrackletBroadcaster,
                                        TrackletRandomErasing)
from mmdcct.registry import TRANSFORMS

T = 8
H, W = 256, 128
FILL = (124, 116, 104)


def paper_transforms(erase_prob=0.5, flip_prob=0.5, erasing=None):
    erasing = erasing or dict(
        type='mmpretrain.RandomErasing',
        erase_prob=erase_prob,
        min_area_ratio=0.02,
        max_area_ratio=0.4,
        aspect_range=(0.3, 3.3),
        mode='const',
        fill_color=FILL)
    return [
        dict(
            type='mmcv.Resize',
            scale=(W, H),
            keep_ratio=False,
            interpolation='bicubic'),
        dict(type='mmpretrain.RandomCrop', crop_size=(H, W), padding=10),
        dict(type='mmcv.RandomFlip', prob=flip_prob, direction='horizontal'),
        erasing,
    ]


def coord_frames(h=H, w=W, t=T):
    """Frames equal in G/B (pixel coordinates), different in R (frame id).

    Values avoid 0 and the fill colour so padding/erasing are detectable.
    """
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing='ij')
    frames = []
    for i in range(t):
        img = np.empty((h, w, 3), np.uint8)
        img[..., 0] = 30 + 20 * i
        img[..., 1] = 1 + yy % 200
        img[..., 2] = 1 + xx
        frames.append(img)
    return frames


def run(transform, frames):
    results = dict(
        imgs=[f.copy() for f in frames],
        img_shape=frames[0].shape[:2],
        ori_shape=frames[0].shape[:2],
        pid=3)
    return transform(results)


def signature(imgs):
    """Geometry/erasing signature of frame 0 (G and B channels)."""
    return imgs[0][..., 1:].tobytes()


def assert_consistent(imgs):
    assert len(imgs) == T
    ref = imgs[0][..., 1:]
    for im in imgs[1:]:
        assert im.shape == (H, W, 3) and im.dtype == np.uint8
        # same crop offset, flip and erasing rectangle for every frame
        np.testing.assert_array_equal(im[..., 1:], ref)
    # the R channel still tells the frames apart outside pad/erase
    reds = {int(np.median(im[..., 0])) for im in imgs}
    assert len(reds) > 1


def test_broadcaster_consistent_across_frames_and_varies_across_calls():
    np.random.seed(0)
    t = TRANSFORMS.build(
        dict(type='TrackletBroadcaster', transforms=paper_transforms()))
    frames = coord_frames()
    sigs, flips, erased = set(), set(), set()
    for _ in range(30):
        out = run(t, frames)
        assert_consistent(out['imgs'])
        sigs.add(signature(out['imgs']))
        flips.add(out['flip'])
        erased.add(bool((out['imgs'][0] == np.array(FILL)).all(-1).any()))
        assert out['img_shape'] == (H, W)
        assert out['pid'] == 3
    assert len(sigs) > 20  # different draws on different calls
    assert flips == {True, False}
    assert erased == {True, False}


def test_share_random_params_is_what_makes_it_consistent():
    """Control: without sharing, frames of one call get different draws."""
    np.random.seed(0)
    t = TrackletBroadcaster(paper_transforms(), share_random_params=False)
    out = run(t, coord_frames())
    gb = {im[..., 1:].tobytes() for im in out['imgs']}
    assert len(gb) > 1


def test_stock_mmcv_broadcaster_is_consistent_too():
    """mmcv.TransformBroadcaster alone gives the same guarantee (the wrapper
    only adds readable config + meta write-back)."""
    np.random.seed(1)
    with DefaultScope.overwrite_default_scope('mmdcct'):
        t = TRANSFORMS.build(
            dict(
                type='mmcv.TransformBroadcaster',
                mapping={'img': 'imgs'},
                auto_remap=True,
                share_random_params=True,
                transforms=paper_transforms()))
    assert isinstance(t, TransformBroadcaster)
    for _ in range(10):
        assert_consistent(run(t, coord_frames())['imgs'])


def test_crop_and_flip_geometry():
    """Pad 10 + crop keeps size; a shift shows up identically in all frames;
    flip mirrors the B (x-coordinate) channel."""
    np.random.seed(3)
    t = TrackletBroadcaster(paper_transforms(erase_prob=0.0, flip_prob=0.0))
    frames = coord_frames()
    shifts = set()
    for _ in range(20):
        imgs = run(t, frames)['imgs']
        g = imgs[0][..., 1].astype(int)
        # find the vertical offset from a non-padded column
        col = g[:, W // 2]
        nz = np.nonzero(col)[0]
        dy = int(col[nz[0]]) - 1 - nz[0]
        shifts.add(dy)
        assert -10 <= dy <= 10
    assert len(shifts) > 1
    t = TrackletBroadcaster(paper_transforms(erase_prob=0.0, flip_prob=1.0))
    out = run(t, frames)
    assert out['flip'] is True and out['flip_direction'] == 'horizontal'
    b = out['imgs'][0][H // 2, :, 2].astype(int)
    inner = b[b > 0]
    assert np.all(np.diff(inner) < 0)  # x decreases: mirrored


def _noise_patch_pixels(imgs):
    """Pixels identical in all frames but not zero padding (R channel
    differs per frame everywhere else)."""
    same = np.ones(imgs[0].shape[:2], bool)
    for im in imgs[1:]:
        same &= np.all(im == imgs[0], axis=-1)
    pad = np.all(imgs[0] == 0, axis=-1)
    return same & ~pad


def test_tracklet_random_erasing_rand_mode_shares_noise():
    np.random.seed(5)
    erasing = dict(type='TrackletRandomErasing', erase_prob=1.0, mode='rand')
    t = TrackletBroadcaster(paper_transforms(erasing=erasing))
    for _ in range(5):
        imgs = run(t, coord_frames())['imgs']
        assert_consistent(imgs)
        patch = _noise_patch_pixels(imgs)
        # erased area >= 2% of the image, filled with identical noise
        assert patch.sum() >= 0.02 * H * W * 0.9
        assert len(np.unique(imgs[0][patch])) > 50


def test_stock_random_erasing_rand_mode_noise_differs():
    """Why TrackletRandomErasing exists: mmpretrain's 'rand' mode shares the
    rectangle but not the noise."""
    np.random.seed(5)
    erasing = dict(
        type='mmpretrain.RandomErasing', erase_prob=1.0, mode='rand')
    t = TrackletBroadcaster(paper_transforms(erasing=erasing))
    imgs = run(t, coord_frames())['imgs']
    assert _noise_patch_pixels(imgs).sum() < 0.01 * H * W


@pytest.mark.parametrize('fill', [FILL, (123.675, 116.28, 103.53), 7])
def test_tracklet_random_erasing_const_equals_mmpretrain(fill):
    from mmpretrain.datasets.transforms.processing import RandomErasing
    img = coord_frames(t=1)[0]
    ours = TrackletRandomErasing(erase_prob=1.0, mode='const',
                                 fill_color=fill)
    theirs = RandomErasing(erase_prob=1.0, mode='const', fill_color=fill)
    for seed in range(5):
        np.random.seed(seed)
        a = ours(dict(img=img.copy()))['img']
        np.random.seed(seed)
        b = theirs(dict(img=img.copy()))['img']
        assert not np.array_equal(a, img)  # something was erased
        np.testing.assert_array_equal(a, b)
    # the parent class is not polluted by our cached method
    assert 'random_fill' not in RandomErasing._methods_with_randomness


def test_resize_only_test_pipeline_and_repr():
    t = TrackletBroadcaster([
        dict(
            type='mmcv.Resize',
            scale=(W, H),
            keep_ratio=False,
            interpolation='bilinear')
    ])
    frames = coord_frames(h=100, w=50, t=3)
    out = t(dict(imgs=frames, img_shape=(100, 50), ori_shape=(100, 50)))
    assert [im.shape for im in out['imgs']] == [(H, W, 3)] * 3
    assert out['img_shape'] == (H, W) and out['ori_shape'] == (100, 50)
    assert 'TrackletBroadcaster' in repr(t)


@pytest.mark.parametrize('seed', [0, 1])
def test_seeded_reproducibility(seed):
    t = TrackletBroadcaster(paper_transforms())
    np.random.seed(seed)
    a = [signature(run(t, coord_frames())['imgs']) for _ in range(3)]
    np.random.seed(seed)
    b = [signature(run(t, coord_frames())['imgs']) for _ in range(3)]
    assert a == b


def test_picklable_after_use():
    """Spawned dataloader workers pickle the pipeline; mmcv's cache context
    leaves unpicklable instance attributes that the wrapper removes."""
    import pickle
    t = TrackletBroadcaster(paper_transforms())
    run(t, coord_frames())
    t2 = pickle.loads(pickle.dumps(t))
    np.random.seed(0)
    a = run(t, coord_frames())['imgs']
    np.random.seed(0)
    b = run(t2, coord_frames())['imgs']
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert_consistent(b)

"""On-device batch augments (TrackletBatchFlip / TrackletBatchRandomErasing):
exact equivalence with the CPU pipeline (TrackletBroadcaster + mmcv /
mmpretrain transforms + pack + normalise) under forced decisions, one draw
per tracklet, the rectangle distribution of mmpretrain.RandomErasing, the
preprocessor switch (training only) and the demo batch-aug config."""
import os.path as osp
from typing import Dict, List

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmpretrain.datasets.transforms.processing import RandomErasing

from mmdcct.datasets.transforms import PackVideoReIDInputs
from mmdcct.datasets.transforms.augmentations import TrackletBroadcaster
from mmdcct.models.data_preprocessors import (TrackletBatchFlip,
                                              TrackletBatchRandomErasing,
                                              VideoReIDDataPreprocessor)
from mmdcct.registry import DATASETS, MODELS
from mmdcct.structures import VideoReIDDataSample
from mmdcct.utils import register_all_modules

register_all_modules()

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
BATCH_AUG_CFG = osp.join(REPO, 'configs/dcct/dcct_demo_batch-aug.py')
DEMO_CFG = osp.join(REPO, 'configs/dcct/dcct_demo.py')
FILL = (124, 116, 104)
ERASING = dict(
    erase_prob=0.5,
    min_area_ratio=0.02,
    max_area_ratio=0.4,
    aspect_range=(0.3, 3.3),
    mode='const',
    fill_color=FILL)


def tracklets(num: int = 3,
              frames: int = 4,
              height: int = 16,
              width: int = 8,
              seed: int = 0) -> List[np.ndarray]:
    """``num`` tracklets of ``frames`` uint8 ``H x W x 3`` frames each."""
    rng = np.random.RandomState(seed)
    return [
        rng.randint(0, 256, (frames, height, width, 3), dtype=np.uint8)
        for _ in range(num)
    ]


def cpu_path(clips: List[np.ndarray], transforms: List) -> torch.Tensor:
    """CPU pipeline: broadcast transforms, pack, preprocess (normalise)."""
    broadcaster = TrackletBroadcaster(transforms=transforms)
    pack = PackVideoReIDInputs()
    packed = [
        pack(broadcaster(dict(imgs=[f.copy() for f in clip])))['inputs']
        for clip in clips
    ]
    return VideoReIDDataPreprocessor()(dict(inputs=packed))['inputs']


class ForcedErasing(RandomErasing):
    """``mmpretrain.RandomErasing`` whose random draws are forced: always
    erase, always the rectangle ``rect`` = (top, left, h, w)."""

    def __init__(self, rect, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rect = tuple(rect)

    def random_disable(self) -> bool:
        return False

    def random_patch(self, img_h: int, img_w: int) -> tuple:
        return self.rect


def gpu_path(clips: List[np.ndarray], augment, params) -> torch.Tensor:
    """Batch path: stack uint8, float, forced augment, normalise."""
    pre = VideoReIDDataPreprocessor()
    batch = torch.from_numpy(np.stack(clips)).permute(0, 1, 4, 2, 3)
    batch = augment.apply(batch.float(), params)
    return pre(dict(inputs=batch))['inputs']


# --------------------------------------------------------------------------
# equivalence with the CPU transforms under forced decisions
# --------------------------------------------------------------------------
@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_flip_equals_cpu_random_flip(direction):
    clips = tracklets()
    expected = cpu_path(
        clips, [dict(type='mmcv.RandomFlip', prob=1.0, direction=direction)])
    flip = TrackletBatchFlip(prob=0.5, direction=direction)
    got = gpu_path(clips, flip, torch.ones(3, dtype=torch.bool))
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    # and "no flip" is the identity
    unflipped = cpu_path(clips, [])
    got = gpu_path(clips, flip, torch.zeros(3, dtype=torch.bool))
    torch.testing.assert_close(got, unflipped, rtol=0, atol=0)


@pytest.mark.parametrize('rect', [(3, 2, 5, 4), (0, 0, 16, 8), (10, 5, 6, 3)])
def test_const_erasing_equals_cpu_random_erasing(rect):
    """Force mmpretrain.RandomErasing's draws to ``rect`` (top, left, h,
    w); the batch module with that rectangle gives the same tensor."""
    clips = tracklets()
    expected = cpu_path(clips, [ForcedErasing(rect, **ERASING)])
    erasing = TrackletBatchRandomErasing(**ERASING)
    params = erasing.sample_params(3, 16, 8)
    top, left, h, w = rect
    params.update(
        erase=torch.tensor([True, True, True]),
        top=torch.full((3, ), top),
        left=torch.full((3, ), left),
        height=torch.full((3, ), h),
        width=torch.full((3, ), w))
    got = gpu_path(clips, erasing, params)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    # the rectangle really was erased (all frames, all tracklets)
    raw = erasing.apply(torch.zeros(3, 4, 3, 16, 8), params)
    patch = raw[:, :, :, top:top + h, left:left + w]
    assert (patch == torch.tensor(FILL, dtype=torch.float).view(1, 1, 3, 1,
                                                                1)).all()
    assert raw.sum() == patch.sum()


def test_const_fill_is_cast_like_the_cpu_uint8_patch():
    cfg = dict(ERASING, fill_color=(123.675, 116.28, 103.53))
    clips = tracklets(num=1)
    expected = cpu_path(clips, [ForcedErasing((1, 1, 4, 4), **cfg)])
    erasing = TrackletBatchRandomErasing(**cfg)
    params = dict(
        erasing.sample_params(1, 16, 8),
        erase=torch.tensor([True]),
        top=torch.tensor([1]),
        left=torch.tensor([1]),
        height=torch.tensor([4]),
        width=torch.tensor([4]))
    torch.testing.assert_close(
        gpu_path(clips, erasing, params), expected, rtol=0, atol=0)


def test_flip_then_erase_equals_the_cpu_pipeline_order():
    clips = tracklets(num=2)
    expected = cpu_path(clips, [
        dict(type='mmcv.RandomFlip', prob=1.0, direction='horizontal'),
        ForcedErasing((2, 1, 6, 3), **ERASING),
    ])
    flip, erasing = TrackletBatchFlip(), TrackletBatchRandomErasing(**ERASING)
    params = dict(
        erasing.sample_params(2, 16, 8),
        erase=torch.tensor([True, True]),
        top=torch.tensor([2, 2]),
        left=torch.tensor([1, 1]),
        height=torch.tensor([6, 6]),
        width=torch.tensor([3, 3]))
    batch = torch.from_numpy(np.stack(clips)).permute(0, 1, 4, 2, 3).float()
    batch = flip.apply(batch, torch.tensor([True, True]))
    got = erasing.apply(batch, params)
    got = VideoReIDDataPreprocessor()(dict(inputs=got))['inputs']
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


# --------------------------------------------------------------------------
# one draw per tracklet, probabilities
# --------------------------------------------------------------------------
def _frames_equal_within_tracklets(x: torch.Tensor) -> bool:
    return bool((x == x[:, :1]).all())


def test_one_decision_per_tracklet_and_tracklets_differ():
    torch.manual_seed(0)
    # every frame of a tracklet is the same image, so after augmentation
    # the frames stay equal iff the tracklet got one decision
    base = torch.randint(0, 256, (64, 1, 3, 16, 8)).float()
    batch = base.expand(64, 5, 3, 16, 8).contiguous()
    flipped = TrackletBatchFlip(prob=0.5)(batch)
    assert _frames_equal_within_tracklets(flipped)
    is_flipped = (flipped != batch).flatten(1).any(1)
    assert 0 < is_flipped.sum() < 64  # tracklets differ
    for mode in ('const', 'rand'):
        erasing = TrackletBatchRandomErasing(erase_prob=0.5, mode=mode)
        erased = erasing(batch)
        assert _frames_equal_within_tracklets(erased)
        changed = (erased != batch).flatten(1).any(1)
        assert 0 < changed.sum() < 64
        # the rectangles of the erased tracklets are not all the same
        masks = (erased != batch)[changed][:, 0].any(1)
        corners = {tuple(m.nonzero().min(0)[0].tolist()) for m in masks}
        assert len(corners) > 1


def test_probability_extremes():
    batch = torch.randint(0, 256, (8, 3, 3, 6, 4)).float()
    assert torch.equal(TrackletBatchFlip(prob=0.)(batch), batch)
    assert torch.equal(TrackletBatchFlip(prob=1.)(batch), batch.flip(-1))
    assert torch.equal(TrackletBatchRandomErasing(erase_prob=0.)(batch), batch)
    erased = TrackletBatchRandomErasing(
        erase_prob=1., min_area_ratio=0.3, fill_color=150)(
            batch)
    assert ((erased == 150).flatten(1).sum(1) > 0).all()


def test_flip_rate_matches_prob():
    torch.manual_seed(0)
    for prob in (0.2, 0.5, 0.8):
        mask = TrackletBatchFlip(prob=prob).sample_params(20000, 16, 8)
        assert mask.dtype == torch.bool and mask.shape == (20000, )
        assert abs(mask.float().mean().item() - prob) < 0.015


def _cpu_rectangles(n: int, height: int, width: int, seed: int) -> np.ndarray:
    """``(n, 4)`` (top, left, h, w) of mmpretrain.RandomErasing."""
    transform = RandomErasing(**dict(ERASING, erase_prob=1.0))
    np.random.seed(seed)
    return np.array([transform.random_patch(height, width) for _ in range(n)])


@pytest.mark.parametrize('height, width', [(256, 128), (64, 32)])
def test_rectangle_distribution_matches_mmpretrain(height, width):
    n = 4000
    erasing = TrackletBatchRandomErasing(**ERASING)
    gen = torch.Generator().manual_seed(0)
    p = erasing.sample_params(n, height, width, generator=gen)
    assert abs(p['erase'].float().mean().item() - 0.5) < 0.03
    ours = torch.stack([p['top'], p['left'], p['height'], p['width']],
                       1).numpy().astype(float)
    cpu = _cpu_rectangles(n, height, width, seed=0).astype(float)
    for rects in (ours, cpu):
        top, left, h, w = rects.T
        assert (h >= 1).all() and (w >= 1).all()
        assert (top >= 0).all() and (top + h <= height).all()
        assert (left >= 0).all() and (left + w <= width).all()
        # randint(0, H - h) excludes H - h (unless the rectangle spans H)
        assert ((top + h < height) | (top == 0)).all()
    ratio, cpu_ratio = (
        r[:, 2] * r[:, 3] / (height * width) for r in (ours, cpu))
    # area ratios in [min, max] up to the rounding of h and w
    slack = (height + width) / (height * width)
    assert ratio.min() >= 0.02 - slack and ratio.max() <= 0.4 + slack
    assert cpu_ratio.min() >= 0.02 - slack and cpu_ratio.max() <= 0.4 + slack
    assert abs(ratio.mean() - cpu_ratio.mean()) < 0.01
    # aspect h / w (not w / h) and the corner offsets, as mmpretrain
    for col in range(4):
        scale = (height, width, height, width)[col]
        assert abs(ours[:, col].mean() - cpu[:, col].mean()) < 0.02 * scale
    log_aspect = np.log(ours[:, 2] / ours[:, 3])
    assert abs(log_aspect.mean() - np.log(cpu[:, 2] / cpu[:, 3]).mean()) \
        < 0.05


def test_aspect_is_height_over_width_as_in_mmpretrain():
    cfg = dict(ERASING, aspect_range=(2.0, 3.0))
    p = TrackletBatchRandomErasing(**cfg).sample_params(
        500, 256, 128, generator=torch.Generator().manual_seed(0))
    cpu = RandomErasing(**cfg)
    np.random.seed(0)
    cpu_hw = np.array([cpu.random_patch(256, 128)[2:] for _ in range(500)])
    assert (cpu_hw[:, 0] > cpu_hw[:, 1]).all()
    assert (p['height'] > p['width']).all()


def test_rand_fill_is_shared_integer_noise():
    torch.manual_seed(0)
    batch = torch.zeros(6, 3, 3, 32, 16)
    uniform = TrackletBatchRandomErasing(
        erase_prob=1., min_area_ratio=0.3, mode='rand')
    p = uniform.sample_params(6, 32, 16)
    assert p['fill'].shape == (6, 3, 32, 16)
    assert torch.equal(p['fill'], p['fill'].floor())
    assert p['fill'].min() >= 0 and p['fill'].max() <= 255
    assert abs(p['fill'].mean().item() - 127.5) < 3
    out = uniform.apply(batch, p)
    assert _frames_equal_within_tracklets(out)
    normal = TrackletBatchRandomErasing(
        erase_prob=1., mode='rand', fill_color=(200, 100, 50), fill_std=10)
    fill = normal.sample_params(64, 32, 16)['fill']
    assert torch.equal(fill, fill.trunc())
    means = fill.mean((0, 2, 3))
    torch.testing.assert_close(
        means, torch.tensor([200., 100., 50.]) - 0.5, atol=0.5, rtol=0)
    clipped = TrackletBatchRandomErasing(
        mode='rand', fill_color=250, fill_std=50).sample_params(4, 8, 8)
    assert clipped['fill'].max() == 255 and clipped['fill'].min() >= 0


# --------------------------------------------------------------------------
# seeds, devices, errors
# --------------------------------------------------------------------------
def test_same_seed_same_output():
    batch = torch.randint(0, 256, (16, 4, 3, 16, 8)).float()
    augments = [
        TrackletBatchFlip(),
        TrackletBatchRandomErasing(mode='rand', fill_std=20)
    ]

    def run(x: torch.Tensor) -> torch.Tensor:
        for aug in augments:
            x = aug(x)
        return x

    torch.manual_seed(3)
    first = run(batch)
    torch.manual_seed(3)
    assert torch.equal(run(batch), first)
    assert not torch.equal(run(batch), first)  # a fresh draw afterwards
    gen_a, gen_b = (torch.Generator().manual_seed(7) for _ in range(2))
    erasing = augments[1]
    assert torch.equal(
        erasing(batch, generator=gen_a), erasing(batch, generator=gen_b))


def test_errors():
    with pytest.raises(ValueError, match='prob must be a number in'):
        TrackletBatchFlip(prob=1.5)
    with pytest.raises(ValueError, match='direction must be one of'):
        TrackletBatchFlip(direction='sideways')
    with pytest.raises(ValueError, match='must not exceed max_area_ratio'):
        TrackletBatchRandomErasing(min_area_ratio=0.5, max_area_ratio=0.4)
    with pytest.raises(ValueError, match='aspect_range'):
        TrackletBatchRandomErasing(aspect_range=(3.3, 0.3))
    with pytest.raises(ValueError, match="mode must be 'const' or 'rand'"):
        TrackletBatchRandomErasing(mode='zeros')
    with pytest.raises(ValueError, match='fill_color must be a number or'):
        TrackletBatchRandomErasing(fill_color=(1, 2))
    with pytest.raises(ValueError, match=r'fill_color must lie in \[0, 255\]'):
        TrackletBatchRandomErasing(fill_color=300)
    with pytest.raises(ValueError, match=r'\(B, T, 3, H, W\)'):
        TrackletBatchFlip()(torch.zeros(2, 3, 8, 4))
    with pytest.raises(ValueError, match='flip mask of shape'):
        TrackletBatchFlip().apply(
            torch.zeros(2, 1, 3, 8, 4), torch.ones(3, dtype=torch.bool))
    with pytest.raises(TypeError, match='batch_augments must be a list'):
        VideoReIDDataPreprocessor(
            batch_augments=dict(type='TrackletBatchFlip'))
    # a float aspect a means (min(a, 1/a), max(a, 1/a))
    assert TrackletBatchRandomErasing(
        aspect_range=3.).aspect_range == pytest.approx((1 / 3, 3.))


# --------------------------------------------------------------------------
# the preprocessor switch
# --------------------------------------------------------------------------
def _pre(**kwargs) -> VideoReIDDataPreprocessor:
    return VideoReIDDataPreprocessor(
        mean=(10, 20, 30), std=(2, 4, 5), **kwargs)


def test_preprocessor_applies_batch_augments_in_training_only():
    pre = _pre(batch_augments=[
        dict(type='TrackletBatchFlip', prob=1.0),
        dict(
            type='TrackletBatchRandomErasing',
            erase_prob=1.0,
            fill_color=10 * 2),  # = mean[1] * 2
    ])
    assert [type(a).__name__ for a in pre.batch_augments
            ] == ['TrackletBatchFlip', 'TrackletBatchRandomErasing']
    assert pre.state_dict().keys() == _pre().state_dict().keys()
    # no pixel equals the fill, so "changed" is "erased"
    inputs = [
        torch.randint(30, 255, (4, 3, 16, 8), dtype=torch.uint8)
        for _ in range(3)
    ]
    plain = _pre()(dict(inputs=inputs))['inputs']
    assert torch.equal(pre(dict(inputs=inputs))['inputs'], plain)
    assert torch.equal(
        pre(dict(inputs=inputs), training=False)['inputs'], plain)
    torch.manual_seed(0)
    trained = pre(dict(inputs=inputs), training=True)['inputs']
    # flipped, then one rectangle per tracklet filled with 20 (normalised:
    # channel 0 -> (20 - 10) / 2 = 5), the rest is the flipped input
    erased = trained != plain.flip(-1)
    assert erased.flatten(1).any(1).all()
    assert _frames_equal_within_tracklets(erased)
    assert (trained[:, :, 0][erased[:, :, 0]] == 5).all()
    # variable-length test batches stay a list, untouched
    ragged = [inputs[0], torch.cat([inputs[1], inputs[2]])]
    out = pre(dict(inputs=ragged), training=False)['inputs']
    assert [x.shape[0] for x in out] == [4, 8]
    expected = _pre()(dict(inputs=ragged))['inputs']
    assert all(torch.equal(a, b) for a, b in zip(out, expected))


def test_preprocessor_augments_before_to_rgb_and_normalisation():
    # a red fill in RGB must stay red: to_rgb reverses the channels after
    # the augments, as it does after the CPU transforms
    pre = VideoReIDDataPreprocessor(
        mean=(0, 0, 0),
        std=(1, 1, 1),
        to_rgb=True,
        batch_augments=[
            dict(
                type='TrackletBatchRandomErasing',
                erase_prob=1.0,
                min_area_ratio=1.0,
                max_area_ratio=1.0,
                aspect_range=1.0,
                fill_color=(255, 0, 0))
        ])
    x = torch.zeros(2, 2, 3, 4, 4, dtype=torch.uint8)
    out = pre(dict(inputs=x), training=True)['inputs']
    assert out.dtype == torch.float32
    assert out[:, :, 2].eq(255).all() and out[:, :, :2].eq(0).all()


def test_module_augments_and_non_persistent_buffers():
    flip = TrackletBatchFlip(prob=1.0)
    pre = _pre(batch_augments=[flip])
    assert pre.batch_augments[0] is flip
    erasing = TrackletBatchRandomErasing()
    assert erasing._const_fill.device.type == 'cpu'
    assert not erasing.state_dict()  # non-persistent buffers only


# --------------------------------------------------------------------------
# the demo config
# --------------------------------------------------------------------------
def _types(pipeline: List[Dict]) -> List[str]:
    types = []
    for step in pipeline:
        types.append(step['type'])
        types.extend(_types(step.get('transforms', [])))
    return types


def test_demo_batch_aug_config_builds_and_trains(synthetic_mars):
    cfg = Config.fromfile(BATCH_AUG_CFG)
    demo = Config.fromfile(DEMO_CFG)
    train_types = _types(cfg.train_dataloader.dataset.pipeline)
    demo_types = _types(demo.train_dataloader.dataset.pipeline)
    # the CPU pipeline drops exactly the flip and the erasing
    assert 'mmcv.RandomFlip' in demo_types
    assert 'TrackletRandomErasing' in demo_types
    assert train_types == [
        t for t in demo_types
        if t not in ('mmcv.RandomFlip', 'TrackletRandomErasing')
    ]
    assert cfg.test_dataloader.dataset.pipeline == \
        demo.test_dataloader.dataset.pipeline
    # the preprocessor takes them over with the same arguments
    demo_transforms = demo.train_dataloader.dataset.pipeline[2]['transforms']
    cpu_flip, cpu_erasing = demo_transforms[2], demo_transforms[3]
    batch_flip, batch_erasing = cfg.model.data_preprocessor.batch_augments
    assert {k: v for k, v in batch_flip.items() if k != 'type'} == \
        {k: v for k, v in cpu_flip.items() if k != 'type'}
    assert {k: v for k, v in batch_erasing.items() if k != 'type'} == \
        {k: v for k, v in cpu_erasing.items() if k != 'type'}

    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    augments = model.data_preprocessor.batch_augments
    assert [type(a).__name__ for a in augments
            ] == ['TrackletBatchFlip', 'TrackletBatchRandomErasing']
    # one step on real pipeline output: 2 identities x 2 tracklets
    dataset = DATASETS.build(
        dict(
            cfg.train_dataloader.dataset, data_root=synthetic_mars['out_dir']))
    by_pid: Dict[int, List[int]] = {}
    for idx in range(len(dataset)):
        by_pid.setdefault(dataset.get_data_info(idx)['pid'], []).append(idx)
    picked = [i for idxs in list(by_pid.values())[:2] for i in idxs[:2]]
    batch = pseudo_collate([dataset[i] for i in picked])
    assert all(x.dtype == torch.uint8 for x in batch['inputs'])
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    model.train()
    losses = model.train_step(batch, optim)
    assert losses and all(torch.isfinite(v).all() for v in losses.values())
    assert all(
        isinstance(s, VideoReIDDataSample) for s in batch['data_samples'])

"""The ``data`` benchmark: the input pipelines vs a plain PIL loop.

Tracklets/s and frames/s of the MARS train and test pipelines (decode +
restricted random sampling + augmentation + packing, then the data
preprocessor's normalisation to float) on a synthetic MARS tree (exact MARS
layout, real MARS frame size 256 x 128 JPEG by default, written by
:func:`mmdcct.testing.make_synthetic_mars` into ``--data-root`` if
absent), through a ``torch.utils.data.DataLoader`` with 0, 1, 2 workers,
against a plain PIL + torchvision-transforms loop doing the same work.

Ours: the datasets and pipelines of ``configs/_base_/datasets/mars.py``
(``data_root`` overridden), the config's collate (mmengine's
``pseudo_collate``) and its ``VideoReIDDataPreprocessor`` (uint8 ->
normalised float, on the CPU). Variants:

- ``train``: the config's train pipeline (resize, pad + crop, flip, erasing
  per frame via ``TrackletBroadcaster``, one draw per tracklet);
- ``train_batch_aug``: flip + erasing moved from the pipeline to the data
  preprocessor (``TrackletBatchFlip`` / ``TrackletBatchRandomErasing``
  batch augments; skipped, with a note, when those are not registered);
- ``test``: the config's test pipeline (RRS ``begin``, resize).

Plain: a ``torch.utils.data.Dataset`` over the same tracklets, choosing the
frames with the same rule (``RestrictedRandomSampling``, same mode), opening
every sampled frame with ``PIL.Image.open(path).convert('RGB')`` and applying
torchvision transforms per frame the usual way (train: ``Resize((256, 128),
BICUBIC)``, ``Pad(10)``, ``RandomCrop``, ``RandomHorizontalFlip(0.5)``,
``ToTensor``, ``Normalize``, ``RandomErasing(0.5, scale=(0.02, 0.4),
ratio=(0.3, 3.3), value=mean)``; test: ``Resize``, ``ToTensor``,
``Normalize``), frames stacked to ``(T, 3, H, W)``, default collate. Both
sides see the same tracklets in the same order, with the same batch size and
worker counts.

Timing: a fresh loader per measurement (``persistent_workers=False``), the
same seeds (main process and, through mmengine's ``worker_init_fn``, every
worker); the first batch (including the worker start-up) is timed
separately, then ``--num-batches`` batches are timed (the workers keep
prefetching while the first batch is awaited, equally for both sides). Threads, set equally
for both sides: the main process runs ``--torch-threads`` torch intra-op
threads (default 1) and ``--cv2-threads`` OpenCV threads (default 0, i.e.
OpenCV threading off, as mmengine's ``set_multi_processing``); every worker
runs 1 torch thread (PyTorch's DataLoader default) and ``--cv2-threads``
OpenCV threads. With more threads than cores, multi-worker numbers mostly
measure oversubscription.

Decode table (``--decode``, on by default; ``--no-decode`` skips it): the
per-frame decode time of ``LoadTrackletFrames`` for every decoder available
(``'cv2'``, ``'pillow'``, ``'turbojpeg'`` when PyTurboJPEG and libjpeg-turbo
load, else a note), on (a) the first ``--decode-frames`` frame paths of the
train data list (the benchmark's real frames) and (b) ``--decode-large``
512 x 256 JPEGs (quality 90, smooth synthetic content with some texture,
written once and deterministically to ``<data-root>/decode_bench/``), the
latter also with ``decode_size=(128, 256)`` (reduced DCT decode). The whole
transform call is timed on tracklets of ``--decode-tracklet-len`` distinct
frames (ms per frame = time / frames), best of ``--decode-runs`` passes, in
the main process (its torch / cv2 thread settings), against a plain
``np.asarray(PIL.Image.open(p).convert('RGB'))`` loop on the same files
(``vs PIL`` = PIL's ms per frame / the row's: above 1 is faster than PIL).
"""
import argparse
import cProfile
import copy
import functools
import io
import os.path as osp
import pstats
import time
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .common import environment, print_table

__all__ = [
    'add_data_args', 'run_data', 'PlainTrackletDataset', 'plain_transforms',
    'batch_aug_pipeline'
]

VARIANTS = ('train', 'train_batch_aug', 'test')
VARIANT_TITLES = {
    'train': 'train',
    'train_batch_aug': 'train, batch aug',
    'test': 'test',
}
_REPO_ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
DEFAULT_CONFIG = osp.join(_REPO_ROOT, 'configs', '_base_', 'datasets',
                          'mars.py')
_FLIP_TYPES = ('mmcv.RandomFlip', 'RandomFlip')
_ERASING_TYPES = ('mmpretrain.RandomErasing', 'RandomErasing',
                  'TrackletRandomErasing')


# --------------------------------------------------------------------------
# threads and seeds
# --------------------------------------------------------------------------
def _set_cv2_threads(num: int) -> Optional[int]:
    """Set OpenCV's threads; return the previous value (None: no cv2)."""
    try:
        import cv2
    except ImportError:  # pragma: no cover
        return None
    prev = cv2.getNumThreads()
    cv2.setNumThreads(num)
    return prev


def _cv2_threads() -> Optional[int]:
    try:
        import cv2
    except ImportError:  # pragma: no cover
        return None
    return cv2.getNumThreads()


def _seed_all(seed: int) -> None:
    """Seed Python, NumPy and torch as the Runner does."""
    from mmengine.runner.utils import set_random_seed
    set_random_seed(seed)


def _worker_init(worker_id: int, num_workers: int, seed: int,
                 cv2_threads: int) -> None:
    """mmengine's worker seeding plus the thread settings of a worker."""
    from mmengine.dataset.utils import worker_init_fn
    worker_init_fn(worker_id, num_workers, 0, seed)
    torch.set_num_threads(1)
    _set_cv2_threads(cv2_threads)


# --------------------------------------------------------------------------
# the plain baseline
# --------------------------------------------------------------------------
def plain_transforms(train: bool,
                     size_hw: Tuple[int, int],
                     mean: Sequence[float],
                     std: Sequence[float],
                     padding: int = 10) -> Callable:
    """The usual per-frame torchvision transforms of a re-ID loader.

    Args:
        train (bool): Train (augmenting) or test transforms.
        size_hw (tuple[int, int]): Output ``(H, W)``.
        mean (Sequence[float]): Mean in 0..1.
        std (Sequence[float]): Std in 0..1.
        padding (int): Pad before the random crop. Defaults to 10.

    Returns:
        Callable: PIL image -> normalised float tensor ``(3, H, W)``.
    """
    import torchvision.transforms as T
    resize = T.Resize(size_hw, interpolation=T.InterpolationMode.BICUBIC)
    if not train:
        return T.Compose([resize, T.ToTensor(), T.Normalize(mean, std)])
    return T.Compose([
        resize,
        T.Pad(padding),
        T.RandomCrop(size_hw),
        T.RandomHorizontalFlip(0.5),
        T.ToTensor(),
        T.Normalize(mean, std),
        T.RandomErasing(
            0.5, scale=(0.02, 0.4), ratio=(0.3, 3.3), value=list(mean)),
    ])


class PlainTrackletDataset(torch.utils.data.Dataset):
    """Tracklets read with PIL and transformed per frame by torchvision.

    Args:
        data_list (list[dict]): ``img_paths`` and ``pid`` per tracklet.
        sampler (Callable): Picks the frames: ``sampler(dict(img_paths=...))
            ['frame_inds']`` (a frame-sampling transform).
        transform (Callable): PIL image -> tensor ``(3, H, W)``.
    """

    def __init__(self, data_list: List[dict], sampler: Callable,
                 transform: Callable) -> None:
        self.data_list = data_list
        self.sampler = sampler
        self.transform = transform

    def __len__(self) -> int:
        return len(self.data_list)

    def load_frame(self, path: str):
        """Open one frame as an RGB PIL image."""
        from PIL import Image
        with Image.open(path) as img:
            return img.convert('RGB')

    def __getitem__(self, idx: int) -> Tuple[torch.Tensor, int]:
        info = self.data_list[idx]
        paths = info['img_paths']
        inds = self.sampler(dict(img_paths=paths))['frame_inds']
        frames = [self.transform(self.load_frame(paths[i])) for i in inds]
        return torch.stack(frames), int(info['pid'])


# --------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------
def batch_aug_pipeline(pipeline: List[dict]) -> Tuple[List[dict], List[dict]]:
    """Split flip + erasing off a train pipeline into batch augments.

    Args:
        pipeline (list[dict]): A train pipeline with a
            ``TrackletBroadcaster`` holding ``RandomFlip`` /
            ``RandomErasing``.

    Returns:
        tuple[list[dict], list[dict]]: The pipeline without them and the
        ``batch_augments`` of the data preprocessor doing the same work.
    """
    pipeline = copy.deepcopy(pipeline)
    augments = []
    for step in pipeline:
        if step.get('type') != 'TrackletBroadcaster':
            continue
        kept = []
        for t in step['transforms']:
            args = {k: v for k, v in t.items() if k != 'type'}
            if t.get('type') in _FLIP_TYPES:
                augments.append(
                    dict(
                        type='TrackletBatchFlip',
                        prob=args.get('prob', 0.5),
                        direction=args.get('direction', 'horizontal')))
            elif t.get('type') in _ERASING_TYPES:
                augments.append(
                    dict(type='TrackletBatchRandomErasing', **args))
            else:
                kept.append(t)
        step['transforms'] = kept
    return pipeline, augments


def _ensure_data(args: argparse.Namespace) -> dict:
    """Generate the synthetic MARS tree if ``--data-root`` has none."""
    root = args.data_root
    info = dict(data_root=root, generated=False, generation_seconds=None)
    if not osp.isfile(osp.join(root, 'info', 'tracks_train_info.mat')):
        from mmdcct.testing import make_synthetic_mars
        print(f'writing a synthetic MARS ({args.num_ids} train + '
              f'{args.num_ids} test ids, {args.height}x{args.width}) to '
              f'{root} ...')
        summary = make_synthetic_mars(
            root,
            num_train_ids=args.num_ids,
            num_test_ids=args.num_ids,
            img_size=(args.height, args.width),
            seed=args.seed)
        info.update(generated=True, generation_seconds=summary['time_s'])
    return info


def _frame_size(path: str) -> Tuple[int, int]:
    from PIL import Image
    with Image.open(path) as img:
        return img.size[1], img.size[0]


def _build(args: argparse.Namespace) -> dict:
    """Build the config, datasets, preprocessors and plain datasets."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmdcct.registry import DATASETS, MODELS, TRANSFORMS

    cfg = Config.fromfile(args.config)
    init_default_scope('mmdcct')
    pre_cfg = cfg.data_preprocessor.to_dict()
    mean = [m / 255. for m in pre_cfg['mean']]
    std = [s / 255. for s in pre_cfg['std']]
    w, h = cfg.img_scale
    train_cfg = cfg.train_dataloader.dataset.to_dict()
    test_cfg = cfg.test_dataloader.dataset.to_dict()
    train_cfg['data_root'] = test_cfg['data_root'] = args.data_root

    built = OrderedDict()
    notes = []
    for variant in args.variants:
        ds_cfg = copy.deepcopy(test_cfg if variant == 'test' else train_cfg)
        v_pre = copy.deepcopy(pre_cfg)
        if variant == 'train_batch_aug':
            if MODELS.get('TrackletBatchFlip') is None:
                notes.append('train_batch_aug skipped: TrackletBatchFlip is '
                             'not registered')
                continue
            ds_cfg['pipeline'], augments = batch_aug_pipeline(
                ds_cfg['pipeline'])
            v_pre['batch_augments'] = augments
        try:
            preprocessor = MODELS.build(v_pre)
        except Exception as e:  # an incompatible preprocessor
            notes.append(f'{variant} skipped: building the data preprocessor '
                         f'failed: {type(e).__name__}: {e}')
            continue
        dataset = DATASETS.build(ds_cfg)
        sampling = next(t for t in ds_cfg['pipeline'] if t['type'] in (
            'RestrictedRandomSampling', 'IntervalSampleFrames',
            'EvenlySampleFrames'))
        infos = (dataset.get_data_info(i) for i in range(len(dataset)))
        data_list = [
            dict(img_paths=info['img_paths'], pid=info.get('pid', -1))
            for info in infos
        ]
        plain = PlainTrackletDataset(
            data_list, TRANSFORMS.build(sampling),
            plain_transforms(variant != 'test', (h, w), mean, std))
        built[variant] = dict(
            dataset=dataset,
            preprocessor=preprocessor.eval(),
            plain=plain,
            pipeline=ds_cfg['pipeline'],
            batch_augments=v_pre.get('batch_augments'),
            training=variant != 'test')
    return dict(cfg=cfg, variants=built, notes=notes, img_scale=(w, h))


# --------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------
def _order(num: int, need: int, seed: int) -> List[int]:
    order = np.random.default_rng(seed).permutation(num)
    if need > num:
        order = np.resize(order, need)
    return order[:need].tolist()


def _loader(dataset, indices: List[int], batch_size: int, num_workers: int,
            collate_fn: Callable, args: argparse.Namespace):
    init = functools.partial(
        _worker_init,
        num_workers=num_workers,
        seed=args.seed,
        cv2_threads=args.cv2_threads) if num_workers else None
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=indices,
        num_workers=num_workers,
        collate_fn=collate_fn,
        worker_init_fn=init,
        persistent_workers=False,
        drop_last=False)


def _time_loader(loader, step: Callable, num_batches: int, seed: int) -> dict:
    """Time the first batch, then ``num_batches`` batches."""
    _seed_all(seed)
    with torch.no_grad():
        t0 = time.perf_counter()
        it = iter(loader)
        out = step(next(it))
        t1 = time.perf_counter()
        tracklets = frames = 0
        for _ in range(num_batches):
            out = step(next(it))
            tracklets += out.shape[0]
            frames += out.shape[0] * out.shape[1]
        t2 = time.perf_counter()
    del it
    seconds = t2 - t1
    return dict(
        first_batch_seconds=t1 - t0,
        seconds=seconds,
        tracklets=tracklets,
        frames=frames,
        tracklets_per_s=tracklets / seconds,
        frames_per_s=frames / seconds,
        output_shape=list(out.shape),
        output_dtype=str(out.dtype))


def _best(runs: int, fn: Callable[[], dict]) -> dict:
    best = None
    for _ in range(max(1, runs)):
        res = fn()
        if best is None or res['seconds'] < best['seconds']:
            best = res
    return best


def _measure_ours(entry: dict, indices: List[int], workers: int,
                  args: argparse.Namespace) -> dict:
    """Our dataset + pseudo_collate + data preprocessor."""
    from mmengine.dataset import pseudo_collate
    pre, training = entry['preprocessor'], entry['training']

    def once() -> dict:
        loader = _loader(entry['dataset'], indices, args.batch_size, workers,
                         pseudo_collate, args)
        return _time_loader(loader, lambda b: pre(b, training)['inputs'],
                            args.num_batches, args.seed)

    return _best(args.runs, once)


def _measure_plain(entry: dict, indices: List[int], workers: int,
                   args: argparse.Namespace) -> dict:
    """The plain PIL + torchvision dataset + default_collate."""
    from torch.utils.data import default_collate

    def once() -> dict:
        loader = _loader(entry['plain'], indices, args.batch_size, workers,
                         default_collate, args)
        return _time_loader(loader, lambda b: b[0], args.num_batches,
                            args.seed)

    return _best(args.runs, once)


# --------------------------------------------------------------------------
# stage breakdown and profile (worker count 0)
# --------------------------------------------------------------------------
def _breakdown_ours(entry: dict, indices: List[int], seed: int) -> dict:
    """Seconds per pipeline step (and the preprocessor) per tracklet."""
    dataset = entry['dataset']
    steps = dataset.pipeline.transforms
    names = [type(t).__name__ for t in steps]
    totals = np.zeros(len(steps) + 1)
    _seed_all(seed)
    with torch.no_grad():
        for idx in indices:
            results = dataset.get_data_info(idx)
            for k, t in enumerate(steps):
                t0 = time.perf_counter()
                results = t(results)
                totals[k] += time.perf_counter() - t0
            t0 = time.perf_counter()
            entry['preprocessor'](dict(
                inputs=[results['inputs']],
                data_samples=[results['data_samples']]), entry['training'])
            totals[-1] += time.perf_counter() - t0
    names.append('VideoReIDDataPreprocessor')
    return OrderedDict(
        (n, float(s / len(indices))) for n, s in zip(names, totals))


def _breakdown_plain(entry: dict, indices: List[int], seed: int) -> dict:
    """Seconds per step of the plain loop per tracklet."""
    plain = entry['plain']
    totals = np.zeros(4)
    _seed_all(seed)
    for idx in indices:
        info = plain.data_list[idx]
        t0 = time.perf_counter()
        inds = plain.sampler(dict(img_paths=info['img_paths']))['frame_inds']
        t1 = time.perf_counter()
        imgs = [plain.load_frame(info['img_paths'][i]) for i in inds]
        t2 = time.perf_counter()
        frames = [plain.transform(img) for img in imgs]
        t3 = time.perf_counter()
        torch.stack(frames)
        t4 = time.perf_counter()
        totals += (t1 - t0, t2 - t1, t3 - t2, t4 - t3)
    names = ('RestrictedRandomSampling', 'PIL open + convert',
             'torchvision transforms', 'torch.stack')
    return OrderedDict(
        (n, float(s / len(indices))) for n, s in zip(names, totals))


def _profile_ours(entry: dict,
                  indices: List[int],
                  seed: int,
                  top: int = 15) -> List[dict]:
    """cProfile ``dataset[i]`` over ``indices``; the top functions."""
    dataset = entry['dataset']
    _seed_all(seed)
    prof = cProfile.Profile()
    prof.enable()
    for idx in indices:
        dataset[idx]
    prof.disable()
    stream = io.StringIO()
    stats = pstats.Stats(prof, stream=stream).sort_stats('tottime')
    rows = []
    for func in stats.fcn_list[:top]:
        cc, nc, tt, ct, _ = stats.stats[func]
        rows.append(
            dict(
                function=f'{osp.basename(func[0])}:{func[1]}({func[2]})',
                ncalls=nc,
                tottime=tt,
                cumtime=ct))
    return rows


# --------------------------------------------------------------------------
# decode table (main process)
# --------------------------------------------------------------------------
DECODE_LARGE_SIZE_HW = (512, 256)
DECODE_SIZE = (128, 256)  # (w, h): the model input of the MARS configs
DECODE_QUALITY = 90


def _decode_backends() -> Tuple[List[str], List[str]]:
    """The ``LoadTrackletFrames`` decoders usable here, and notes."""
    from mmdcct.datasets.transforms import loading
    backends, notes = [], []
    for backend in loading.IMDECODE_BACKENDS:
        if backend == 'turbojpeg':
            try:
                loading._get_turbojpeg()
            except Exception as e:
                notes.append(f'decode: turbojpeg skipped (not available: '
                             f'{type(e).__name__}: {e})')
                continue
        backends.append(backend)
    return backends, notes


def _train_frame_paths(args: argparse.Namespace, built: dict,
                       num: int) -> List[str]:
    """The first ``num`` frame paths of the train data list."""
    data_list = None
    for variant in ('train', 'train_batch_aug'):
        if variant in built['variants']:
            data_list = built['variants'][variant]['plain'].data_list
            break
    if data_list is None:  # train not benchmarked: build its data list
        from mmdcct.registry import DATASETS
        ds_cfg = built['cfg'].train_dataloader.dataset.to_dict()
        ds_cfg['data_root'] = args.data_root
        dataset = DATASETS.build(ds_cfg)
        data_list = (dataset.get_data_info(i) for i in range(len(dataset)))
    paths: List[str] = []
    for info in data_list:
        paths.extend(info['img_paths'][:num - len(paths)])
        if len(paths) >= num:
            break
    return paths


def _synthetic_frame(index: int, size_hw: Tuple[int, int],
                     seed: int) -> np.ndarray:
    """A deterministic smooth RGB frame with some texture (uint8)."""
    h, w = size_hw
    rng = np.random.default_rng([seed, index])
    y = np.linspace(0., 1., h, dtype=np.float32)[:, None, None]
    x = np.linspace(0., 1., w, dtype=np.float32)[None, :, None]
    # smooth background: per-channel linear gradient
    c0, cy, cx = (rng.uniform(0, 255, (3, 3)).astype(np.float32) *
                  np.float32([[1.], [.5], [.5]]))
    img = c0 + cy * (y - .5) + cx * (x - .5)
    # a few soft blobs (a "person" and a background object or two)
    for _ in range(rng.integers(2, 5)):
        cy_, cx_ = rng.uniform(.1, .9, 2)
        sy, sx = rng.uniform(.05, .3, 2)
        colour = rng.uniform(-120, 120, 3).astype(np.float32)
        img = img + colour * np.exp(-((y - cy_)**2 / (2 * sy**2) +
                                      (x - cx_)**2 / (2 * sx**2)))
    # texture: oriented stripes and a blurred noise field
    fy, fx = rng.uniform(5, 40, 2)
    stripes = np.sin(2 * np.pi * (fy * y + fx * x) + rng.uniform(0, 6.3))
    img = img + 12. * stripes
    import cv2
    noise = rng.normal(0., 1., (h, w, 3)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 1.2) * 18.
    img = img + noise
    return np.clip(img, 0, 255).astype(np.uint8)


def _large_jpegs(root: str, num: int, seed: int) -> Tuple[List[str], bool]:
    """``num`` deterministic 512 x 256 quality-90 JPEGs under ``root``.

    Returns:
        tuple[list[str], bool]: The paths and whether any was written.
    """
    import os

    from PIL import Image
    h, w = DECODE_LARGE_SIZE_HW
    folder = osp.join(root, 'decode_bench',
                      f'{h}x{w}_q{DECODE_QUALITY}_seed{seed}')
    os.makedirs(folder, exist_ok=True)
    paths, written = [], False
    for i in range(num):
        path = osp.join(folder, f'{i:06d}.jpg')
        if not osp.isfile(path):
            tmp = path + '.tmp'
            Image.fromarray(_synthetic_frame(i, (h, w), seed)).save(
                tmp, format='JPEG', quality=DECODE_QUALITY)
            os.replace(tmp, path)
            written = True
        paths.append(path)
    return paths, written


def _time_decode(decode_pass: Callable[[], Tuple[int, tuple]], runs: int,
                 reference_s: Optional[float]) -> dict:
    """Best of ``runs`` passes of ``decode_pass() -> (frames, shape)``."""
    best, frames, shape = float('inf'), 0, None
    for _ in range(max(1, runs)):
        t0 = time.perf_counter()
        frames, shape = decode_pass()
        best = min(best, time.perf_counter() - t0)
    per_frame = best / frames
    return dict(
        frames=frames,
        seconds=best,
        ms_per_frame=per_frame * 1e3,
        frames_per_s=frames / best,
        vs_pil=1.0 if reference_s is None else reference_s / per_frame,
        decoded_size_hw=list(shape[:2]))


def _pil_pass(paths: List[str]) -> Callable[[], Tuple[int, tuple]]:
    from PIL import Image

    def run() -> Tuple[int, tuple]:
        img = None
        for p in paths:
            img = np.asarray(Image.open(p).convert('RGB'))
        return len(paths), img.shape

    return run


def _transform_pass(transform: Callable, paths: List[str],
                    tracklet_len: int) -> Callable[[], Tuple[int, tuple]]:
    chunks = [
        paths[i:i + tracklet_len] for i in range(0, len(paths), tracklet_len)
    ]

    def run() -> Tuple[int, tuple]:
        frames, shape = 0, None
        for chunk in chunks:
            imgs = transform(dict(img_paths=chunk))['imgs']
            frames += len(imgs)
            shape = imgs[-1].shape
        return frames, shape

    return run


def _decode_table(args: argparse.Namespace, built: dict) -> dict:
    """Per-frame decode time of ``LoadTrackletFrames`` vs plain PIL."""
    from mmdcct.datasets.transforms import LoadTrackletFrames
    backends, notes = _decode_backends()
    for note in notes:
        print(f'note: {note}')
    t_len = max(1, args.decode_tracklet_len)
    sets = []
    real = _train_frame_paths(args, built, args.decode_frames)
    if real:
        sets.append(('real', 'train frames', real, [None]))
    large_written = None
    if args.decode_large > 0:
        large, large_written = _large_jpegs(args.data_root, args.decode_large,
                                            args.seed)
        sets.append(('large', f'synthetic JPEG q{DECODE_QUALITY}', large,
                     [None, DECODE_SIZE]))

    rows, table = [], []
    for name, source, paths, sizes in sets:
        size_hw = list(_frame_size(paths[0]))
        size_txt = f'{size_hw[0]}x{size_hw[1]}'
        ref = _time_decode(_pil_pass(paths), args.decode_runs, None)
        entries = [('PIL open + convert + asarray', None, None, ref)]
        for decode_size in sizes:
            for backend in backends:
                transform = LoadTrackletFrames(
                    imdecode_backend=backend, decode_size=decode_size)
                res = _time_decode(
                    _transform_pass(transform, paths, t_len),
                    args.decode_runs, ref['ms_per_frame'] / 1e3)
                label = f'LoadTrackletFrames {backend}'
                if decode_size is not None:
                    label += (f', decode_size={decode_size} -> '
                              '{}x{}'.format(*res['decoded_size_hw']))
                entries.append((label, backend, decode_size, res))
        for label, backend, decode_size, res in entries:
            rows.append(
                dict(
                    set=name,
                    source=source,
                    frame_size_hw=size_hw,
                    path=label,
                    imdecode_backend=backend,
                    decode_size=None
                    if decode_size is None else list(decode_size),
                    **res))
            table.append((f'{size_txt} ({name})', label,
                          f'{res["ms_per_frame"]:.3f}',
                          f'{res["frames_per_s"]:.0f}',
                          f'{res["vs_pil"]:.2f}x'))
    print(f'\ndecode: LoadTrackletFrames on tracklets of {t_len} distinct '
          f'frames (ms per frame = call time / frames), best of '
          f'{args.decode_runs}, main process; vs PIL = PIL ms / ms (above '
          '1: faster than PIL)')
    print_table(table,
                ('frame (h x w)', 'path', 'ms / frame', 'frames/s', 'vs PIL'))
    return dict(
        tracklet_len=t_len,
        runs=args.decode_runs,
        backends=backends,
        notes=notes,
        sets={
            name: dict(
                source=source, num_frames=len(paths), first=paths[0])
            for name, source, paths, _ in sets
        },
        large_generated=large_written,
        rows=rows)


# --------------------------------------------------------------------------
# the sub-benchmark
# --------------------------------------------------------------------------
def add_data_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``data`` sub-benchmark."""
    parser.add_argument(
        '--data-root',
        default='data/bench/MARS',
        help='MARS-layout folder; a synthetic MARS is written there if it '
        'holds none')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='dataset config (default: configs/_base_/datasets/mars.py)')
    parser.add_argument(
        '--num-ids',
        type=int,
        default=40,
        help='train and test identities of a generated dataset')
    parser.add_argument(
        '--height', type=int, default=256, help='frame height if generated')
    parser.add_argument(
        '--width', type=int, default=128, help='frame width if generated')
    parser.add_argument(
        '--variants', nargs='+', default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--num-batches',
        type=int,
        default=20,
        help='timed batches per measurement (after one warm-up batch)')
    parser.add_argument(
        '--runs', type=int, default=3,
        help='best of N measurements')
    parser.add_argument(
        '--no-plain', action='store_true', help='skip the plain PIL loop')
    parser.add_argument(
        '--torch-threads',
        type=int,
        default=1,
        help='torch intra-op threads of the main process (workers: 1)')
    parser.add_argument(
        '--cv2-threads',
        type=int,
        default=0,
        help='OpenCV threads, main process and workers (0: threading off, '
        "mmengine's default)")
    parser.add_argument(
        '--breakdown',
        type=int,
        default=50,
        help='per-step times over N tracklets, worker count 0 (0: off)')
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        help='cProfile the train pipeline over N tracklets, worker count '
        '0 (0: off)')
    parser.add_argument(
        '--decode',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='the LoadTrackletFrames decode table (default: on)')
    parser.add_argument(
        '--decode-frames',
        type=int,
        default=200,
        help='decode table: the first N frames of the train data list')
    parser.add_argument(
        '--decode-large',
        type=int,
        default=100,
        help='decode table: N synthetic 512x256 JPEGs (0: none), written '
        'once to <data-root>/decode_bench/')
    parser.add_argument(
        '--decode-tracklet-len',
        type=int,
        default=8,
        help='decode table: frames per LoadTrackletFrames call')
    parser.add_argument(
        '--decode-runs',
        type=int,
        default=3,
        help='decode table: best of N passes')
    parser.add_argument('--seed', type=int, default=0)


def _env() -> dict:
    import mmcv
    import mmengine
    import PIL
    import torchvision
    env = environment()
    env.update(
        torchvision=torchvision.__version__,
        pillow=PIL.__version__,
        mmengine=mmengine.__version__,
        mmcv=mmcv.__version__,
        cv2_threads=_cv2_threads())
    try:
        import cv2
        env['opencv'] = cv2.__version__
    except ImportError:  # pragma: no cover
        pass
    return env


def run_data(args: argparse.Namespace) -> dict:
    """The ``data`` sub-benchmark: one table per pipeline variant."""
    prev_torch = torch.get_num_threads()
    prev_cv2 = _set_cv2_threads(args.cv2_threads)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    try:
        return _run_data(args)
    finally:
        torch.set_num_threads(prev_torch)
        if prev_cv2 is not None:
            _set_cv2_threads(prev_cv2)


def _warm_page_cache(entries) -> int:
    """Read every frame file of the benchmarked datasets once.

    Without it the first measurement of a run (ours, by order) pays the
    disk reads that every later one is spared.

    Returns:
        int: The number of files read.
    """
    seen = set()
    for entry in entries:
        for info in entry['plain'].data_list:
            for path in info['img_paths']:
                if path not in seen:
                    seen.add(path)
                    with open(path, 'rb') as f:
                        f.read()
    return len(seen)


def _run_data(args: argparse.Namespace) -> dict:
    data_info = _ensure_data(args)
    built = _build(args)
    variants = built['variants']
    for note in built['notes']:
        print(f'note: {note}')
    if not variants:
        raise RuntimeError('no pipeline variant to benchmark: ' +
                           '; '.join(built['notes']))
    any_entry = next(iter(variants.values()))
    first_path = any_entry['plain'].data_list[0]['img_paths'][0]
    data_info.update(
        frame_size_hw=list(_frame_size(first_path)),
        output_size_hw=[built['img_scale'][1], built['img_scale'][0]])
    env = _env()
    print(f'\ndata: {args.data_root}, frames {data_info["frame_size_hw"]} '
          f'(h, w) -> {data_info["output_size_hw"]}, batch '
          f'{args.batch_size}, {args.num_batches} timed batches after 1 '
          f'warm-up, {env["cpu_cores"]} cores, main-process torch threads '
          f'{torch.get_num_threads()}, cv2.setNumThreads({args.cv2_threads}) '
          '(workers: 1 torch thread, the same cv2 setting)')

    need = (args.num_batches + 1) * args.batch_size
    warmed = _warm_page_cache(variants.values())
    print(f'page cache warmed: {warmed} frame files read once (both sides '
          'then read from memory, whichever is measured first)')
    results = OrderedDict()
    plain_cache: Dict[Tuple[bool, int], dict] = {}
    for variant, entry in variants.items():
        dataset = entry['dataset']
        indices = _order(len(dataset), need, args.seed)
        if need > len(dataset):
            print(f'note: {variant}: {len(dataset)} tracklets < {need} '
                  'needed, some are repeated')
        rows, runs = [], []
        for workers in args.workers:
            ours = _measure_ours(entry, indices, workers, args)
            plain = None
            if not args.no_plain:
                key = (entry['training'], workers)
                if key not in plain_cache:  # batch aug: same plain loop
                    plain_cache[key] = _measure_plain(entry, indices, workers,
                                                      args)
                plain = plain_cache[key]
            ratio = None if plain is None else \
                ours['tracklets_per_s'] / plain['tracklets_per_s']
            runs.append(
                dict(workers=workers, ours=ours, plain=plain, ratio=ratio))
            rows.append((workers, f'{ours["tracklets_per_s"]:.1f}',
                         f'{ours["frames_per_s"]:.0f}',
                         f'{plain["tracklets_per_s"]:.1f}' if plain else '-',
                         f'{plain["frames_per_s"]:.0f}' if plain else '-',
                         f'{ratio:.2f}x' if plain else '-',
                         f'{ours["first_batch_seconds"]:.2f} / '
                         f'{plain["first_batch_seconds"]:.2f}'
                         if plain else f'{ours["first_batch_seconds"]:.2f}'))
        print(f'\n{VARIANT_TITLES[variant]}: {len(dataset)} tracklets, '
              f'output {ours["output_shape"]} {ours["output_dtype"]}')
        print_table(
            rows,
            ('workers', 'ours trk/s', 'ours frames/s', 'plain trk/s',
             'plain frames/s', 'ours/plain', 'first batch s (ours / plain)'))
        result = dict(
            num_tracklets=len(dataset),
            pipeline=entry['pipeline'],
            batch_augments=entry['batch_augments'],
            runs=runs)
        if args.breakdown:
            sub = indices[:args.breakdown]
            result['breakdown_seconds_per_tracklet'] = dict(
                ours=_breakdown_ours(entry, sub, args.seed),
                plain=None if args.no_plain else _breakdown_plain(
                    entry, sub, args.seed))
            bd = result['breakdown_seconds_per_tracklet']
            b_rows = [('ours: ' + k, f'{v * 1e3:.2f}')
                      for k, v in bd['ours'].items()]
            b_rows.append(
                ('ours: total', f'{sum(bd["ours"].values()) * 1e3:.2f}'))
            if bd['plain']:
                b_rows += [('plain: ' + k, f'{v * 1e3:.2f}')
                           for k, v in bd['plain'].items()]
                b_rows.append(
                    ('plain: total', f'{sum(bd["plain"].values()) * 1e3:.2f}'))
            print(f'per-step time, worker count 0, {len(sub)} tracklets')
            print_table(b_rows, ('step', 'ms / tracklet'))
        results[variant] = result

    report = dict(
        benchmark='data',
        environment=env,
        config=dict(
            config=osp.relpath(args.config)
            if osp.isabs(args.config) else args.config,
            data=data_info,
            variants=list(variants),
            workers=list(args.workers),
            batch_size=args.batch_size,
            num_batches=args.num_batches,
            runs=args.runs,
            plain=not args.no_plain,
            seed=args.seed,
            threads=dict(
                main_torch=torch.get_num_threads(),
                cv2_set_num_threads=args.cv2_threads,
                main_cv2_get_num_threads=_cv2_threads(),
                worker_torch=1,
                worker_cv2_set_num_threads=args.cv2_threads),
            notes=built['notes']),
        results=results)

    if args.profile and 'train' in variants:
        entry = variants['train']
        sub = _order(len(entry['dataset']), args.profile, args.seed + 1)
        report['profile_train'] = _profile_ours(entry, sub, args.seed)
        print(f'\nprofile of the train pipeline, {len(sub)} tracklets, '
              'top functions by own time')
        print_table([(r['function'], r['ncalls'], f'{r["tottime"]:.4f}',
                      f'{r["cumtime"]:.4f}') for r in report['profile_train']],
                    ('function', 'calls', 'tottime (s)', 'cumtime (s)'))
    if args.decode:
        report['decode'] = _decode_table(args, built)
    return report

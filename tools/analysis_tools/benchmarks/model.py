"""The ``model`` benchmark: inference throughput per test-feature mode and
training-step time under the speed switches.

Every measurement (a *case*: one config, one kind — ``flops``, ``predict`` or
``train`` — and one set of switches) runs in a fresh process, so that its
peak RSS is its own and no compiled graph or allocator cache leaks into the
next one. Inputs are random uint8 tracklets ``(B, T, 3, H, W)`` of the
config's test shape, fed through the model's data preprocessor exactly as
the Runner does (``test_step`` / ``train_step`` with the config's optimizer).

Switches (joined with ``+`` in a mode name, ``fp32`` = none of them):

* ``channels_last`` — ``model.channels_last=True``;
* ``bf16`` — bfloat16 autocast: ``mmdcct.AutocastOptimWrapper`` in training,
  ``torch.autocast`` in inference (what ``--amp`` / ``TestLoop(fp16=True)``
  do on the CPU);
* ``compile`` — ``torch.compile`` of ``train_step`` / ``test_step`` (what
  the Runner's ``compile=True`` does); its first (compiling) step is
  reported separately;
* ``ckpt`` — activation checkpointing of the ViT's layers
  (``model.activation_checkpointing=['backbone.transformer.layers']``).
"""
import argparse
import multiprocessing
import statistics
import time
from typing import Dict, List, Optional, Sequence

from .common import current_rss_mib, environment, peak_rss_mib, print_table

__all__ = ['SWITCHES', 'parse_mode', 'add_model_args', 'run_model']

SWITCHES = ('channels_last', 'bf16', 'compile', 'ckpt')
DEFAULT_CONFIGS = ('configs/dcct/dcct_demo.py',
                   'configs/dcct/dcct_r50-vit-b_2xb8-50e_mars.py')
DEFAULT_TRAIN_MODES = ('fp32', 'channels_last', 'bf16', 'compile', 'ckpt',
                       'channels_last+compile', 'channels_last+bf16+compile')
#: CPU flags with native bf16 matmul/conv kernels; without them oneDNN
#: emulates bf16 at a fraction of fp32's speed (docs/benchmarks.md, model),
#: so the default modes leave bf16 out.
NATIVE_BF16_FLAGS = ('avx512_bf16', 'amx_bf16')


def parse_mode(mode: str) -> List[str]:
    """Switches of a mode name, e.g. ``'channels_last+bf16'``.

    Args:
        mode (str): ``'fp32'`` or switches of :data:`SWITCHES` joined by
            ``+``.

    Returns:
        list[str]: The switches (empty for ``'fp32'``).
    """
    if mode == 'fp32':
        return []
    switches = mode.split('+')
    unknown = [s for s in switches if s not in SWITCHES]
    if unknown or len(set(switches)) != len(switches):
        raise ValueError(f'benchmark model: bad mode {mode!r}; use fp32 or '
                         f'a +-joined subset of {SWITCHES}')
    return switches


def _build(config: str, switches: Sequence[str], cfg_options: dict):
    """Config, model (no pretrained weights) and input shape ``(T, H, W)``."""
    from mmengine.config import Config

    from mmdcct.registry import MODELS
    from mmdcct.utils import register_all_modules, remove_pretrained_init
    from mmdcct.utils.complexity import config_input_shape

    register_all_modules()
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model_cfg = remove_pretrained_init(cfg.model)
    model_cfg['channels_last'] = 'channels_last' in switches
    if 'ckpt' in switches:
        model_cfg['activation_checkpointing'] = ['backbone.transformer.layers']
    model = MODELS.build(model_cfg)
    model.init_weights()
    return cfg, model, config_input_shape(cfg)


def _batch(batch_size: int, shape: Sequence[int], num_ids: int) -> dict:
    """Random uint8 tracklets, two per identity, as the dataloader packs."""
    import torch

    from mmdcct.structures import VideoReIDDataSample
    num_frames, height, width = shape
    gen = torch.Generator().manual_seed(0)
    inputs = [
        torch.randint(0, 256, (num_frames, 3, height, width),
                      generator=gen, dtype=torch.uint8)
        for _ in range(batch_size)
    ]
    samples = [
        VideoReIDDataSample().set_gt_label((i // 2) % max(1, num_ids))
        for i in range(batch_size)
    ]
    return dict(inputs=inputs, data_samples=samples)


def _run_case(case: dict) -> dict:
    """Build the model of one case and time it (in the current process)."""
    import contextlib
    import logging

    import torch
    from mmengine.logging import MMLogger
    from mmengine.optim import build_optim_wrapper

    # init_weights logs every parameter at INFO
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    if case.get('threads'):
        torch.set_num_threads(case['threads'])
    torch.manual_seed(0)
    switches = parse_mode(case['mode'])
    cfg, model, shape = _build(case['config'], switches, case['cfg_options'])
    result = dict(case, shape=list(shape), rss_model_mib=current_rss_mib())
    if case['kind'] == 'flops':
        from mmdcct.utils.complexity import model_complexity
        for feature in ('base', 'all'):
            res = model_complexity(model, shape[0], tuple(shape[1:]), feature)
            result[f'flops_per_frame_{feature}'] = res['flops_per_frame']
            result[f'params_inference_{feature}'] = res['params_inference']
        return result

    head = getattr(model, 'head', None)
    data = _batch(case['batch_size'], shape,
                  getattr(head, 'num_classes', 2) if head else 2)
    autocast = (
        torch.autocast('cpu', dtype=torch.bfloat16)
        if 'bf16' in switches else contextlib.nullcontext())
    if case['kind'] == 'predict':
        model.eval()
        model.test_cfg['feature'] = case['feature']
        step = model.test_step
        if 'compile' in switches:
            step = torch.compile(step)

        def run():
            with torch.no_grad(), autocast:
                return step(data)
    else:
        model.train()
        optim_cfg = dict(cfg.optim_wrapper)
        if 'bf16' in switches:
            optim_cfg.update(type='mmdcct.AutocastOptimWrapper',
                             dtype='bfloat16')
        optim_wrapper = build_optim_wrapper(model, optim_cfg)
        step = model.train_step
        if 'compile' in switches:
            step = torch.compile(step)

        def run():
            return step(data, optim_wrapper)

    start = time.perf_counter()
    out = run()
    result['first_step_seconds'] = time.perf_counter() - start
    for _ in range(case['warmup']):
        run()
    times = []
    for _ in range(case['runs']):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    result['step_seconds'] = statistics.median(times)
    result['step_seconds_all'] = times
    frames = case['batch_size'] * shape[0]
    result['tracklets_per_second'] = case['batch_size'] / statistics.median(
        times)
    result['frames_per_second'] = frames / statistics.median(times)
    if case['kind'] == 'train':
        result['loss'] = float(out['loss'].detach())
    result['peak_rss_mib'] = peak_rss_mib()
    return result


def _case_child(case: dict, queue) -> None:
    try:
        queue.put(_run_case(case))
    except BaseException as e:  # reported by the parent, never swallowed
        queue.put(dict(case, error=f'{type(e).__name__}: {e}'))


def run_case_in_subprocess(case: dict) -> dict:
    """Run :func:`_run_case` in a fresh (spawned) process.

    Args:
        case (dict): ``config``, ``kind`` (``'flops'``/``'predict'``/
            ``'train'``), ``mode``, ``feature``, ``batch_size``,
            ``warmup``, ``runs``, ``threads``, ``cfg_options``.

    Returns:
        dict: The case with its measurements, or with ``error`` set.
    """
    ctx = multiprocessing.get_context('spawn')
    queue = ctx.Queue()
    child = ctx.Process(target=_case_child, args=(case, queue))
    child.start()
    result = queue.get()
    child.join()
    if 'step_seconds' in result:
        print(f'  [{case["kind"]} {case["mode"]}'
              f'{" " + case["feature"] if case.get("feature") else ""}] '
              f'{result["step_seconds"]:.3f} s/step (first '
              f'{result["first_step_seconds"]:.1f} s, peak RSS '
              f'{result["peak_rss_mib"]:.0f} MiB)', flush=True)
    return result


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``model`` sub-benchmark."""
    parser.add_argument(
        '--configs', nargs='+', default=list(DEFAULT_CONFIGS),
        help='model configs (default: the demo DCCT and the full R50+ViT-B '
        'DCCT on MARS)')
    parser.add_argument('--batch-size', type=int, default=2,
                        help='tracklets per step (T and HxW: the config)')
    parser.add_argument(
        '--predict-modes', nargs='+', default=['fp32'],
        help='switch sets for the base-vs-all inference comparison')
    parser.add_argument(
        '--train-modes', nargs='+', default=None,
        help='switch sets of the training step (first = reference); '
        'default: ' + ' '.join(DEFAULT_TRAIN_MODES) + ' (the bf16 ones only '
        'on CPUs with native bf16: ' + '/'.join(NATIVE_BF16_FLAGS) + ')')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed steps after the first one')
    parser.add_argument('--runs', type=int, default=3,
                        help='timed steps (the median is reported)')
    parser.add_argument('--predict-runs', type=int, default=5)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch\'s)')
    parser.add_argument('--no-flops', action='store_true',
                        help='skip the FLOPs count (jit trace)')


def _fail_on_error(result: dict) -> dict:
    if 'error' in result:
        raise RuntimeError(f'benchmark model: {result["config"]} '
                           f'{result["kind"]} {result["mode"]} failed: '
                           f'{result["error"]}')
    return result


def _benchmark_config(args: argparse.Namespace, config: str) -> dict:
    common = dict(config=config, batch_size=args.batch_size,
                  threads=args.threads, cfg_options={}, feature=None)
    report: Dict[str, object] = dict(config=config)
    flops: Optional[dict] = None
    if not args.no_flops:
        flops = _fail_on_error(run_case_in_subprocess(
            dict(common, kind='flops', mode='fp32', warmup=0, runs=0)))
        report['flops'] = flops

    predict = []
    for mode in args.predict_modes:
        for feature in ('base', 'all'):
            predict.append(_fail_on_error(run_case_in_subprocess(dict(
                common, kind='predict', mode=mode, feature=feature,
                warmup=args.warmup, runs=args.predict_runs))))
    report['predict'] = predict
    shape = predict[0]['shape'] if predict else None
    print(f'\n{config}: batch {args.batch_size} x T={shape and shape[0]} '
          f'frames of {shape and shape[1]}x{shape and shape[2]}')
    rows = []
    flops_ratio = (flops['flops_per_frame_all'] /
                   flops['flops_per_frame_base']) if flops else None
    report['base_over_all'] = []
    for i in range(0, len(predict), 2):
        base, full = predict[i], predict[i + 1]
        for res in (base, full):
            rows.append((res['mode'], res['feature'],
                         f'{res["tracklets_per_second"]:.2f}',
                         f'{res["frames_per_second"]:.1f}',
                         f'{res["peak_rss_mib"]:.0f}'))
        ratio = base['tracklets_per_second'] / full['tracklets_per_second']
        entry = dict(mode=base['mode'], throughput_ratio=ratio,
                     flops_ratio=flops_ratio)
        if flops_ratio:
            entry['relative_gap'] = ratio / flops_ratio - 1
        report['base_over_all'].append(entry)
    print_table(rows, ('mode', 'feature', 'tracklets/s', 'frames/s',
                       'peak RSS (MiB)'))
    for entry in report['base_over_all']:
        text = (f'base/all throughput [{entry["mode"]}]: '
                f'{entry["throughput_ratio"]:.3f}')
        if flops_ratio:
            text += (f'; FLOPs all/base per frame: {flops_ratio:.3f} '
                     f'({flops["flops_per_frame_all"] / 1e9:.2f} vs '
                     f'{flops["flops_per_frame_base"] / 1e9:.2f} GFLOPs); '
                     f'gap {100 * entry["relative_gap"]:+.1f} %')
        print(text)

    train = [
        _fail_on_error(run_case_in_subprocess(dict(
            common, kind='train', mode=mode, warmup=args.warmup,
            runs=args.runs))) for mode in args.train_modes
    ]
    report['train'] = train
    if train:
        reference = train[0]['step_seconds']
        rows = []
        for res in train:
            res['speedup'] = reference / res['step_seconds']
            rows.append((res['mode'], f'{res["step_seconds"]:.3f}',
                         f'{res["speedup"]:.2f}x',
                         f'{res["first_step_seconds"]:.1f}',
                         f'{res["peak_rss_mib"]:.0f}',
                         f'{res["rss_model_mib"]:.0f}',
                         f'{res["loss"]:.4f}'))
        print_table(rows, ('train step', 's/step (median)',
                           f'vs {train[0]["mode"]}', 'first step (s)',
                           'peak RSS (MiB)', 'RSS model built (MiB)',
                           'loss'))
        best = max(train, key=lambda r: r['speedup'])
        report['best_train_mode'] = dict(mode=best['mode'],
                                         speedup=best['speedup'])
        print(f'best train-step switches: {best["mode"]} '
              f'({best["speedup"]:.2f}x {train[0]["mode"]})')
    return report


def default_train_modes(cpu_flags: Sequence[str]) -> List[str]:
    """:data:`DEFAULT_TRAIN_MODES`, without bf16 unless the CPU (or CUDA)
    runs it natively."""
    import torch
    native = torch.cuda.is_available() or any(
        flag in cpu_flags for flag in NATIVE_BF16_FLAGS)
    return [
        mode for mode in DEFAULT_TRAIN_MODES
        if native or 'bf16' not in parse_mode(mode)
    ]


def run_model(args: argparse.Namespace) -> dict:
    """The ``model`` sub-benchmark: one report entry per config."""
    env = environment()
    if args.train_modes is None:
        args.train_modes = default_train_modes(env['cpu_bf16_isa'])
        if len(args.train_modes) < len(DEFAULT_TRAIN_MODES):
            print('bf16 modes left out: this CPU has none of '
                  f'{NATIVE_BF16_FLAGS} (emulated bf16 is far slower than '
                  'fp32); ask for them with --train-modes')
    for mode in list(args.predict_modes) + list(args.train_modes):
        parse_mode(mode)
    return dict(
        benchmark='model',
        environment=env,
        config=dict(
            batch_size=args.batch_size,
            predict_modes=args.predict_modes,
            train_modes=args.train_modes,
            warmup=args.warmup,
            runs=args.runs,
            predict_runs=args.predict_runs,
            threads=args.threads),
        configs=[_benchmark_config(args, config) for config in args.configs])

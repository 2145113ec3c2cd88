"""The ``onnx`` benchmark: test-feature inference in PyTorch eager vs
onnxruntime on the CPU.

The model (random weights, no pretrained download) is exported with
``tools/deployment/pytorch2onnx.py`` and the same batch of random normalised
tracklets ``(B, T, 3, H, W)`` is run through ``model(inputs, mode='tensor')``
(PyTorch, ``no_grad``) and through an onnxruntime ``InferenceSession``
(CPU provider, all graph optimisations), with the same number of intra-op
threads. The export and each runtime run in a fresh process, so that each
peak RSS is its own. The weights are initialised from one seed, so the
PyTorch and onnxruntime features are compared as well.
"""
import argparse
import importlib.util
import multiprocessing
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Optional

from .common import environment, peak_rss_mib, print_table

__all__ = ['add_onnx_args', 'run_onnx']

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
DEFAULT_CONFIG = 'configs/dcct/dcct_r50-vit-b_2xb8-50e_mars.py'
RUNTIMES = ('pytorch', 'onnxruntime')


def _pytorch2onnx():
    """``tools/deployment/pytorch2onnx.py``, imported by path."""
    path = osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py')
    spec = importlib.util.spec_from_file_location('mmdcct_pytorch2onnx',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(case: dict):
    """The model with seeded random weights and the case's test feature."""
    import logging

    import torch
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    from mmdcct.apis import init_model
    from mmdcct.utils import remove_pretrained_init
    from mmdcct.utils.complexity import config_input_shape

    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    if case.get('threads'):
        torch.set_num_threads(case['threads'])
    cfg = Config.fromfile(case['config'])
    cfg.model = remove_pretrained_init(cfg.model)
    torch.manual_seed(0)
    model = init_model(cfg, None)
    model.test_cfg['feature'] = case['feature']
    model.resolve_test_stages()
    return model, tuple(config_input_shape(cfg))


def _inputs(case: dict, shape):
    import torch
    gen = torch.Generator().manual_seed(1)
    return torch.randn(case['batch_size'], shape[0], 3, shape[1], shape[2],
                       generator=gen)


def _time(fn, case: dict) -> dict:
    start = time.perf_counter()
    out = fn()
    first = time.perf_counter() - start
    for _ in range(case['warmup']):
        fn()
    times = []
    for _ in range(max(1, case['runs'])):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    step = statistics.median(times)
    return dict(first_step_seconds=first, step_seconds=step,
                step_seconds_all=times,
                tracklets_per_second=case['batch_size'] / step,
                output=out)


def _run_case(case: dict) -> dict:
    """One step of the benchmark in the current process: ``export``,
    ``pytorch`` or ``onnxruntime``."""
    import numpy as np
    result = dict(case)
    if case['kind'] == 'export':
        tool = _pytorch2onnx()
        model, shape = _build(case)
        start = time.perf_counter()
        meta = tool.export_onnx(model, case['onnx_file'],
                                batch_size=case['batch_size'],
                                opset=case.get('opset'))
        result.update(export_seconds=time.perf_counter() - start,
                      onnx_mib=osp.getsize(case['onnx_file']) / 2**20,
                      feature_dim=int(meta['feature_dim']),
                      shape=list(shape))
    elif case['kind'] == 'pytorch':
        import torch
        model, shape = _build(case)
        inputs = _inputs(case, shape)

        def run():
            with torch.no_grad():
                return model(inputs, mode='tensor').numpy()

        result.update(_time(run, case), shape=list(shape))
    else:
        tool = _pytorch2onnx()
        ort, = tool.require_deploy('onnxruntime')
        meta = tool.read_metadata(case['onnx_file'])
        shape = tuple(int(meta[k])
                      for k in ('num_frames', 'height', 'width'))
        options = ort.SessionOptions()
        if case.get('threads'):
            options.intra_op_num_threads = case['threads']
        start = time.perf_counter()
        session = ort.InferenceSession(case['onnx_file'], options,
                                       providers=['CPUExecutionProvider'])
        result['load_seconds'] = time.perf_counter() - start
        feed = {'inputs': _inputs(case, shape).numpy()}
        result.update(_time(lambda: session.run(None, feed)[0], case),
                      shape=list(shape))
    if 'output' in result:
        np.save(case['output_file'], result.pop('output'))
    result['peak_rss_mib'] = peak_rss_mib()
    return result


def _case_child(case: dict, queue) -> None:
    try:
        queue.put(_run_case(case))
    except BaseException as e:  # reported by the parent, never swallowed
        queue.put(dict(case, error=f'{type(e).__name__}: {e}'))


def run_case_in_subprocess(case: dict) -> dict:
    """:func:`_run_case` in a fresh (spawned) process; raises on error."""
    ctx = multiprocessing.get_context('spawn')
    queue = ctx.Queue()
    child = ctx.Process(target=_case_child, args=(case, queue))
    child.start()
    result = queue.get()
    child.join()
    if 'error' in result:
        raise RuntimeError(f'benchmark onnx: {case["kind"]} of '
                           f'{case["config"]} failed: {result["error"]}')
    return result


def add_onnx_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``onnx`` sub-benchmark."""
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='model config (default: the full R50 + ViT-B '
                        'DCCT on MARS, 8 x 256 x 128)')
    parser.add_argument('--feature', default='base',
                        help="test feature to export (default 'base': the "
                        'backbones only)')
    parser.add_argument('--batch-size', type=int, default=4,
                        help='tracklets per step')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed steps after the first one')
    parser.add_argument('--runs', type=int, default=3,
                        help='timed steps (the median is reported)')
    parser.add_argument('--threads', type=int, default=None,
                        help='intra-op threads of both runtimes (default: '
                        "torch's default, the available cores)")
    parser.add_argument('--opset', type=int, default=None)
    parser.add_argument('--work-dir', default=None,
                        help='where the .onnx file goes (default: a '
                        'temporary folder, removed afterwards)')


def run_onnx(args: argparse.Namespace) -> dict:
    """The ``onnx`` sub-benchmark."""
    import numpy as np
    import torch
    env = environment()
    threads = args.threads or torch.get_num_threads()
    tmp: Optional[tempfile.TemporaryDirectory] = None
    work_dir = args.work_dir
    if work_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix='mmdcct_onnx_')
        work_dir = tmp.name
    os.makedirs(work_dir, exist_ok=True)
    stem = osp.splitext(osp.basename(args.config))[0]
    common = dict(config=args.config, feature=args.feature,
                  batch_size=args.batch_size, warmup=args.warmup,
                  runs=args.runs, threads=threads, opset=args.opset,
                  onnx_file=osp.join(work_dir,
                                     f'{stem}_{args.feature}.onnx'))
    try:
        export = run_case_in_subprocess(dict(common, kind='export'))
        print(f'exported {args.feature!r} of {args.config} in '
              f'{export["export_seconds"]:.1f} s ({export["onnx_mib"]:.0f} '
              f'MiB, peak RSS {export["peak_rss_mib"]:.0f} MiB)',
              flush=True)
        results = {}
        for runtime in RUNTIMES:
            results[runtime] = run_case_in_subprocess(
                dict(common, kind=runtime,
                     output_file=osp.join(work_dir, f'{runtime}.npy')))
            print(f'  [{runtime}] {results[runtime]["step_seconds"]:.3f} '
                  's/step', flush=True)
        ref = np.load(osp.join(work_dir, 'pytorch.npy'))
        got = np.load(osp.join(work_dir, 'onnxruntime.npy'))
    finally:
        if tmp is not None:
            tmp.cleanup()
    max_abs = float(np.abs(got - ref).max())
    max_rel = max_abs / max(float(np.abs(ref).max()), 1e-12)
    shape = export['shape']
    frames = args.batch_size * shape[0]
    rows = []
    reference = results['pytorch']['tracklets_per_second']
    for runtime, res in results.items():
        res['frames_per_second'] = frames / res['step_seconds']
        res['speedup'] = res['tracklets_per_second'] / reference
        rows.append((runtime, f'{res["tracklets_per_second"]:.2f}',
                     f'{res["frames_per_second"]:.1f}',
                     f'{res["speedup"]:.2f}x',
                     f'{res["first_step_seconds"]:.1f}',
                     f'{res["peak_rss_mib"]:.0f}'))
    print(f'\n{args.config}, feature {args.feature!r}: batch '
          f'{args.batch_size} x T={shape[0]} frames of {shape[1]}x'
          f'{shape[2]}, {threads} threads')
    print_table(rows, ('runtime', 'tracklets/s', 'frames/s', 'vs pytorch',
                       'first step (s)', 'peak RSS (MiB)'))
    print(f'onnxruntime vs pytorch features: max |diff| {max_abs:.3e}, '
          f'relative {max_rel:.3e}')
    return dict(
        benchmark='onnx',
        environment=dict(env, onnxruntime=_ort_version()),
        config=dict(config=args.config, feature=args.feature,
                    batch_size=args.batch_size, warmup=args.warmup,
                    runs=args.runs, threads=threads),
        export=export,
        runtimes=results,
        max_abs_diff=max_abs,
        max_rel_diff=max_rel)


def _ort_version() -> str:
    try:
        import onnxruntime
        return onnxruntime.__version__
    except ImportError:
        return 'not installed'

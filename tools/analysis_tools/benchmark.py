"""Micro-benchmarks of mmdcct components.

The sub-benchmarks live in the ``benchmarks`` package next to this script
(one module each, listed in its ``SUBCOMMANDS``); each prints small tables
and, with ``--out``, writes a JSON report:

* ``metric`` — the camera-aware MARS evaluation: the vectorised
  :func:`mmdcct.evaluation.functional.evaluate_rank` against a plain
  per-query NumPy loop of the same protocol (numbers checked equal), on
  random features with MARS-like id / camera statistics (1,980 queries x
  11,310 gallery tracklets = the 9,330 gallery tracklets plus the appended
  queries). One scenario per ``--noise`` value: the default 2.1 gives
  features like a trained model's (mAP ~80), 50 nearly random ones (an
  untrained model) — the ranking cost depends on it. ``--gallery-size``
  additionally evaluates a large gallery (e.g. 100,000) with the chunked
  feature -> distance -> rank path, in a fresh process so that its peak RSS
  is its own.
* ``data`` — the input pipelines: tracklets/s and frames/s of the MARS
  ``train``, ``train_batch_aug`` (flip + erasing moved to the data
  preprocessor's batch augments) and ``test`` pipelines of
  ``configs/_base_/datasets/mars.py`` (decode + RRS + augmentation + packing,
  then the data preprocessor's normalisation to float, on the CPU) through a
  DataLoader with 0, 1, 2 workers, against a plain PIL +
  torchvision-transforms loop doing the same work on the same tracklets
  (ratio ours/plain per worker count), plus a per-step time breakdown and,
  with ``--profile N``, a cProfile of the train pipeline. A synthetic MARS
  at the real MARS frame size (256x128 JPEG) is written to ``--data-root``
  if absent. Threads are set equally for both sides (main process:
  ``--torch-threads``, default 1, and ``--cv2-threads``, default 0 = OpenCV
  threading off as in mmengine; workers: 1 torch thread and
  ``--cv2-threads``).
* ``onnx`` — test-feature inference of one model (default: the full
  R50 + ViT-B DCCT, ``--feature base``, random weights) in PyTorch eager vs
  onnxruntime on the CPU (exported with ``tools/deployment/pytorch2onnx.py``;
  needs the ``deploy`` extra): tracklets/s and peak RSS, each runtime in a
  fresh process, and the max difference of their features.

Examples::

    python tools/analysis_tools/benchmark.py metric
    python tools/analysis_tools/benchmark.py metric --runs 5 --loop-runs 3 \\
        --gallery-size 100000 --out work_dirs/benchmark_metric.json
    python tools/analysis_tools/benchmark.py data
    python tools/analysis_tools/benchmark.py data --workers 0 1 2 \\
        --data-root data/bench/MARS --batch-size 8 --num-batches 20 \\
        --profile 50 --out work_dirs/benchmark_data.json
    python tools/analysis_tools/benchmark.py onnx --batch-size 4 --runs 3
"""
import argparse
import json
import os
import sys
from typing import Optional, Sequence

# The ``benchmarks`` package sits beside this script; running the script puts
# this folder on ``sys.path``, loading it by file path (the tests) does not.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from benchmarks import SUBCOMMANDS  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Benchmarks of mmdcct components')
    sub = parser.add_subparsers(dest='command', required=True)
    for name, (help_text, add_args, run) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_args(p)
        p.add_argument('--out', default=None, help='write a JSON report')
        p.set_defaults(func=run)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the selected sub-benchmark and optionally write its report."""
    args = parse_args(argv)
    report = args.func(args)
    if args.out:
        out_dir = os.path.dirname(os.path.abspath(args.out))
        os.makedirs(out_dir, exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'report written to {args.out}')
    return report


if __name__ == '__main__':
    main()

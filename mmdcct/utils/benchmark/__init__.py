"""Benchmarks of mmdcct components (driven by
``tools/analysis_tools/benchmark.py``).

Each sub-benchmark is a module exposing ``add_<name>_args(parser)`` and
``run_<name>(args) -> dict`` (the JSON report), listed in
:data:`SUBCOMMANDS`: ``metric`` (evaluation), ``data`` (the input
pipelines) and ``model`` (inference / training step of the models).
"""
import argparse
from typing import Callable, Dict, Tuple

from .common import (best_time, current_rss_mib, environment, peak_rss_mib,
                     print_table)
from .data import add_data_args, run_data
from .metric import (add_metric_args, loop_evaluate_rank, make_mars_like,
                     run_metric)
from .model import add_model_args, run_model

SubCommand = Tuple[str, Callable[[argparse.ArgumentParser], None],
                   Callable[[argparse.Namespace], dict]]

#: name -> (help, add_arguments, run).
SUBCOMMANDS: Dict[str, SubCommand] = {
    'metric': ('camera-aware CMC/mAP/mINP: vectorised vs per-query loop',
               add_metric_args, run_metric),
    'data': ('input pipelines (decode + RRS + augment): tracklets/s vs a '
             'plain PIL + torchvision loop', add_data_args, run_data),
    'model': ('inference (base vs all feature) and training-step time under '
              'channels_last / bf16 / compile / checkpointing',
              add_model_args, run_model),
}

__all__ = [
    'SUBCOMMANDS', 'best_time', 'current_rss_mib', 'environment',
    'peak_rss_mib', 'print_table', 'add_metric_args', 'run_metric',
    'loop_evaluate_rank', 'make_mars_like', 'add_model_args', 'run_model'
]

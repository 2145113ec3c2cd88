"""Benchmarks of mmdcct components (driven by
``tools/analysis_tools/benchmark.py``).

Each sub-benchmark is a module exposing ``add_<name>_args(parser)`` and
``run_<name>(args) -> dict`` (the JSON report), listed in
:data:`SUBCOMMANDS`: ``metric`` (evaluation), ``data`` (the input
pipelines), ``model`` (inference / training step of the models) and
``onnx`` (PyTorch eager vs onnxruntime inference).
"""
import argparse
from typing import Callable, Dict, Tuple

from .common import (best_time, current_rss_mib, environment, peak_rss_mib,
                     print_table)
from .data import add_data_args, run_data
from .faiss_search import add_faiss_args, run_faiss
from .metric import (add_metric_args, loop_evaluate_rank, make_mars_like,
                     run_metric)
from .model import add_model_args, run_model
from .onnx import add_onnx_args, run_onnx

SubCommand = Tuple[str, Callable[[argparse.ArgumentParser], None],
                   Callable[[argparse.Namespace], dict]]

#: name -> (help, add_arguments, run).
SUBCOMMANDS: Dict[str, SubCommand] = {
    'metric': ('camera-aware CMC/mAP/mINP: vectorised vs per-query loop',
               add_metric_args, run_metric),
    'data': ('input pipelines (decode + RRS + augment): tracklets/s vs a '
             'plain PIL + torchvision loop', add_data_args, run_data),
    'faiss': ('gallery search at scale: exact vs FAISS flat / IVF / HNSW '
              '(build time, queries/s, recall@k, memory)', add_faiss_args,
              run_faiss),
    'model': ('inference (base vs all feature) and training-step time under '
              'channels_last / bf16 / compile / checkpointing',
              add_model_args, run_model),
    'onnx': ('test-feature inference: PyTorch eager vs onnxruntime on the '
             'CPU (tracklets/s, peak memory)', add_onnx_args, run_onnx),
}

__all__ = [
    'SUBCOMMANDS', 'best_time', 'current_rss_mib', 'environment',
    'peak_rss_mib', 'print_table', 'add_metric_args', 'run_metric',
    'loop_evaluate_rank', 'make_mars_like', 'add_model_args', 'run_model',
    'add_onnx_args', 'run_onnx'
]

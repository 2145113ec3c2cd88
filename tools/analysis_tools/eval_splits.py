"""Evaluate one checkpoint per random split and report mean ± std.

iLIDS-VID and PRID-2011 are evaluated on 10 random train/test splits, each
with its own model; the protocol reports the mean over the splits. For every
split id this tool sets ``split_id`` of the test dataset (and of the train /
val datasets, if the config has them) through config options, loads the
split's checkpoint and runs MMEngine's test loop; it then prints a table of
the per-split metrics with their mean ± std
(:func:`mmdcct.evaluation.functional.aggregate_split_metrics`) and dumps
everything to a JSON file.

Examples::

    # checkpoints work_dirs/dcct_ilids_split0/epoch_50.pth .. split9/...
    python tools/analysis_tools/eval_splits.py \\
        configs/dcct/dcct_r50-vit-b_ilids-vid.py \\
        'work_dirs/dcct_ilids_split{split}/epoch_50.pth' --splits 0-9

The checkpoint template is formatted with ``split=<id>``; ``--work-dir``
(default ``work_dirs/<config name>_eval_splits``) gets one ``split<id>``
folder per run and ``eval_splits.json`` (``--out`` overrides its path).
"""
import argparse
import inspect
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import get_rank
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmdcct.evaluation.functional import (aggregate_split_metrics,
                                          format_split_metrics,
                                          parse_split_ids)
from mmdcct.registry import DATASETS
from mmdcct.utils import (ignore_mmcv_lite_warning,
                          install_safe_checkpoint_loading,
                          setup_cpu_distributed)

DEFAULT_KEYS = ('mAP', 'R1', 'R5', 'R10', 'R20')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Evaluate one checkpoint per split (iLIDS-VID, '
        'PRID-2011) and report the mean ± std of the metrics.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint_template',
        help='checkpoint path with a "{split}" field, e.g. '
        '"work_dirs/x_split{split}/epoch_50.pth"')
    parser.add_argument(
        '--splits',
        default='0-9',
        help='split ids: ranges and/or a comma-separated list, e.g. "0-9" '
        'or "0,3,5" (default: 0-9)')
    parser.add_argument(
        '--work-dir',
        help='where the per-split runs and the summary are written')
    parser.add_argument(
        '--out',
        help='JSON file of the results (default: '
        '<work-dir>/eval_splits.json)')
    parser.add_argument(
        '--keys',
        nargs='+',
        default=None,
        help=f'metrics to aggregate (default: those of {DEFAULT_KEYS} '
        'that the metric reports)')
    parser.add_argument(
        '--ddof',
        type=int,
        default=0,
        help='delta degrees of freedom of the std (0: population std over '
        'the splits, 1: sample std)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config (xxx=yyy), applied to every '
        'split before split_id is set')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def split_cfg_options(cfg: Config, split_id: int) -> Dict[str, int]:
    """The config options that select ``split_id``.

    ``test_dataloader.dataset.split_id`` always, plus the train / val
    datasets of the config when it has them.

    Args:
        cfg (Config): The config.
        split_id (int): The split.

    Returns:
        dict[str, int]: Options for :meth:`Config.merge_from_dict`.

    Raises:
        ValueError: If the test dataset has no ``split_id`` argument.
    """
    init_default_scope(cfg.get('default_scope', 'mmdcct'))
    dataset_type = cfg.test_dataloader.dataset.get('type')
    dataset_cls = DATASETS.get(dataset_type) if isinstance(
        dataset_type, str) else dataset_type
    if dataset_cls is None or 'split_id' not in inspect.signature(
            dataset_cls.__init__).parameters:
        raise ValueError(
            f'The test dataset {dataset_type!r} has no `split_id` argument: '
            'eval_splits.py is meant for iLIDSVID / PRID2011 configs.')
    options = {'test_dataloader.dataset.split_id': split_id}
    for loader in ('train_dataloader', 'val_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        if dataset.get('type') == dataset_type:
            options[f'{loader}.dataset.split_id'] = split_id
    return options


def evaluate_split(args: argparse.Namespace, split_id: int,
                   work_dir: str) -> dict:
    """Run MMEngine's test loop on one split.

    Returns:
        dict: ``split_id``, ``checkpoint``, ``dataset`` (name, split id,
        split source and number of tracklets of the test dataset) and
        ``metrics``.
    """
    checkpoint = args.checkpoint_template.format(split=split_id)
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'The checkpoint of split {split_id}, "{checkpoint}" (from the '
            f'template "{args.checkpoint_template}"), does not exist.')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.merge_from_dict(split_cfg_options(cfg, split_id))
    cfg.launcher = args.launcher
    cfg.load_from = checkpoint
    cfg.work_dir = osp.join(work_dir, f'split{split_id}')
    name = osp.splitext(osp.basename(args.config))[0]
    cfg.experiment_name = f'{name}_split{split_id}_{time.time_ns()}'
    cfg.test_dataloader.setdefault('pin_memory', torch.cuda.is_available())
    setup_cpu_distributed(cfg, args.launcher)

    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    meta = runner.test_dataloader.dataset.metainfo
    if meta.get('split_id') != split_id:
        raise RuntimeError(f'The test dataset of split {split_id} reports '
                           f'split_id={meta.get("split_id")!r}.')
    return dict(
        split_id=split_id,
        checkpoint=checkpoint,
        dataset={
            k: meta[k]
            for k in ('dataset_name', 'split_id', 'split_source',
                      'num_tracklets') if k in meta
        },
        metrics={
            k: float(v) if isinstance(v, (int, float, torch.Tensor)) else v
            for k, v in metrics.items()
        })


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Evaluate every split and aggregate.

    Args:
        argv (Sequence[str], optional): Command line arguments. Defaults to
            None (``sys.argv``).

    Returns:
        dict: ``splits`` (one :func:`evaluate_split` result per split),
        ``summary`` (:func:`aggregate_split_metrics` of the metrics) and
        ``table`` (the printed table).
    """
    args = parse_args(argv)
    install_safe_checkpoint_loading()  # checkpoints load weights-only
    ignore_mmcv_lite_warning()
    split_ids = parse_split_ids(args.splits)
    if len(split_ids) > 1 and '{split}' not in args.checkpoint_template:
        raise ValueError(
            'The checkpoint template must contain "{split}" (one checkpoint '
            f'per split), got "{args.checkpoint_template}".')
    work_dir = args.work_dir or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0] + '_eval_splits')

    results: List[dict] = [
        evaluate_split(args, split_id, work_dir) for split_id in split_ids
    ]
    per_split = {r['split_id']: r['metrics'] for r in results}
    keys = args.keys
    if keys is None:
        common = set.intersection(*(set(m) for m in per_split.values()))
        keys = [k for k in DEFAULT_KEYS if k in common] or None
    summary = aggregate_split_metrics(per_split, keys=keys, ddof=args.ddof)
    table = format_split_metrics(per_split, keys=list(summary), ddof=args.ddof)
    out = dict(
        config=args.config,
        checkpoint_template=args.checkpoint_template,
        ddof=args.ddof,
        splits=results,
        summary=summary,
        table=table)
    if get_rank() == 0:
        print(f'Metrics over {len(split_ids)} splits (mean ± std, '
              f'ddof={args.ddof}):\n{table}')
        out_file = args.out or osp.join(work_dir, 'eval_splits.json')
        os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
        with open(out_file, 'w') as f:
            json.dump(out, f, indent=2, ensure_ascii=False)
        print(f'Results written to {out_file}')
        out['out_file'] = out_file
    return out


if __name__ == '__main__':
    main()

"""Evaluate a video Re-ID checkpoint with MMEngine's Runner."""
import argparse
import os
import os.path as osp
from copy import deepcopy

import mmengine
import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.evaluator import DumpResults
from mmengine.runner import Runner

import mmdcct  # noqa: F401  (allow-lists checkpoint types, quiet warnings)
from mmdcct.utils import setup_cpu_distributed


def parse_args():
    parser = argparse.ArgumentParser(
        description='Evaluate a video Re-ID model (CMC / mAP)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument('--out', help='the file to output results.')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help='To output whether metrics or predictions. '
        'Defaults to output predictions.')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision test')
    parser.add_argument(
        '--show-dir',
        help='directory where the visualization images will be saved.')
    parser.add_argument(
        '--show',
        action='store_true',
        help='whether to display the prediction results in a window.')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='visualize per interval samples.')
    parser.add_argument(
        '--wait-time',
        type=float,
        default=2,
        help='display time of every window. (second)')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='whether to disable the pin_memory option in dataloaders.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    """Merge CLI arguments to config."""
    cfg.launcher = args.launcher

    # work_dir is determined in this priority: CLI > segment in file > name
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    cfg.load_from = args.checkpoint

    # enable automatic-mixed-precision test
    if args.amp:
        cfg.test_cfg.fp16 = True

    if args.show or args.show_dir:
        vis_hook = cfg.default_hooks.get('visualization')
        if vis_hook is None:
            raise ValueError(
                '--show/--show-dir need a `visualization` hook in '
                'default_hooks (e.g. configs/_base_/default_runtime.py).')
        vis_hook.enable = True
        vis_hook.interval = args.interval
        if args.show:
            vis_hook.show = True
            vis_hook.wait_time = args.wait_time
        if args.show_dir:
            vis_hook.out_dir = args.show_dir

    default_dataloader_cfg = ConfigDict(pin_memory=torch.cuda.is_available())
    dataloader_cfg = cfg.test_dataloader
    for key, value in default_dataloader_cfg.items():
        dataloader_cfg.setdefault(key, value)
    if args.no_pin_memory:
        dataloader_cfg['pin_memory'] = False

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    return cfg


def main():
    args = parse_args()

    if args.out is None and args.out_item is not None:
        raise ValueError('Please use `--out` argument to specify the '
                         'path of the output file before using `--out-item`.')

    # load config
    cfg = Config.fromfile(args.config)

    # merge cli arguments to config
    cfg = merge_args(cfg, args)

    setup_cpu_distributed(cfg, args.launcher)

    # build the runner from config
    runner = Runner.from_cfg(cfg)

    if args.out and args.out_item in ['pred', None]:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))

    # start testing
    metrics = runner.test()

    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)

    return deepcopy(metrics)


if __name__ == '__main__':
    main()

"""Evaluate a video Re-ID checkpoint with MMEngine's Runner."""
import argparse
import os
import os.path as osp
import re
from copy import deepcopy

import mmengine
import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.evaluator import DumpResults
from mmengine.hooks import Hook
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import Runner

from mmdcct.utils import (ignore_mmcv_lite_warning,
                          install_safe_checkpoint_loading,
                          setup_cpu_distributed)
from mmdcct.utils.dist_utils import shutdown_distributed


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
        '--tta',
        action='store_true',
        help='test-time augmentation: average the features of the frames '
        'and of their mirror images (`tta_model` / `tta_pipeline` of the '
        'config; by default mmdcct.VideoReIDTTAModel and the test pipeline '
        'with a flip / no-flip TestTimeAug before packing)')
    parser.add_argument(
        '--allow-partial-checkpoint',
        action='store_true',
        help='evaluate even if the checkpoint leaves most backbone weights '
        'of the model unloaded (missing or of another shape); by default '
        'that is refused, since it reports the metrics of random weights')
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

    # after the overrides (e.g. num_workers=0): torch refuses
    # persistent_workers=True without workers
    if not cfg.test_dataloader.get('num_workers', 0):
        cfg.test_dataloader['persistent_workers'] = False

    if args.tta:
        if 'tta_model' not in cfg:
            cfg.tta_model = dict(type='mmdcct.VideoReIDTTAModel')
        if 'tta_pipeline' not in cfg:
            test_pipeline = cfg.test_dataloader.dataset.pipeline
            cfg.tta_pipeline = deepcopy(test_pipeline)
            flips = [
                dict(
                    type='TrackletBroadcaster',
                    transforms=[
                        dict(
                            type='mmcv.RandomFlip',
                            prob=prob,
                            direction='horizontal')
                    ]) for prob in (0., 1.)
            ]
            cfg.tta_pipeline[-1] = dict(
                type='TestTimeAug', transforms=[flips, [test_pipeline[-1]]])
        cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline

    return cfg


def unloaded_backbone_tensors(model: torch.nn.Module, checkpoint: dict):
    """The model's backbone tensors a checkpoint does not provide.

    Args:
        model (nn.Module): The model (unwrapped).
        checkpoint (dict): The loaded checkpoint (or bare state dict).

    Returns:
        tuple: ``(total, missing, mismatched)``: the number of backbone
        tensors of the model (all tensors if it has no ``backbone``), the
        names missing from the checkpoint, and ``(name, checkpoint shape,
        model shape)`` of those with another shape.
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    state_dict = {
        re.sub(r'^module\.', '', k): v
        for k, v in state_dict.items()
    }
    own = {
        k: v
        for k, v in model.state_dict().items()
        if not k.endswith('num_batches_tracked')
    }
    backbone = {k: v for k, v in own.items() if k.startswith('backbone.')}
    own = backbone or own
    missing = [k for k in own if k not in state_dict]
    mismatched = [(k, tuple(state_dict[k].shape), tuple(v.shape))
                  for k, v in own.items() if k in state_dict
                  and hasattr(state_dict[k], 'shape')
                  and tuple(state_dict[k].shape) != tuple(v.shape)]
    return len(own), missing, mismatched


class PartialCheckpointGuard(Hook):
    """Refuse a checkpoint that leaves most backbone tensors unloaded.

    MMEngine loads test checkpoints with ``strict=False`` and only logs the
    missing keys, so the checkpoint of another model would be evaluated
    with random backbone weights. Checked in ``after_load_checkpoint``,
    before the weights are copied into the model.

    Args:
        filename (str): The checkpoint (for the message).
        allow (bool): Only warn (``--allow-partial-checkpoint``).
    """

    priority = 'VERY_HIGH'

    def __init__(self, filename: str, allow: bool = False) -> None:
        self.filename = filename
        self.allow = allow

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model
        if is_model_wrapper(model) or isinstance(model, BaseTTAModel):
            model = model.module
        total, missing, mismatched = unloaded_backbone_tensors(
            model, checkpoint)
        unloaded = len(missing) + len(mismatched)
        if total == 0 or 2 * unloaded <= total:
            return
        shapes = ', '.join(f'{k}: checkpoint {c} vs model {m}'
                           for k, c, m in mismatched[:3])
        message = (
            f'checkpoint {self.filename} leaves {unloaded} of the {total} '
            'backbone tensors of the model unloaded ('
            f'{len(missing)} missing, e.g. {", ".join(missing[:3])}; '
            f'{len(mismatched)} of another shape'
            f'{", e.g. " + shapes if shapes else ""}): the metrics would be '
            'those of randomly initialised weights. It is probably the '
            'checkpoint of another model or config; test it with the config '
            'it was trained with')
        if not self.allow:
            raise RuntimeError(
                message + ', or pass --allow-partial-checkpoint to evaluate '
                'it anyway.')
        runner.logger.warning(message + ' (--allow-partial-checkpoint).')


def main():
    args = parse_args()

    # the checkpoint loads weights-only; one that could run code is refused
    install_safe_checkpoint_loading()
    ignore_mmcv_lite_warning()

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

    runner.register_hook(
        PartialCheckpointGuard(args.checkpoint,
                               args.allow_partial_checkpoint))

    if args.out and args.out_item in ['pred', None]:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))

    # start testing
    metrics = runner.test()

    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)
    shutdown_distributed()

    return deepcopy(metrics)


if __name__ == '__main__':
    main()

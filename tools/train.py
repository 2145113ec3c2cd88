"""Train a video Re-ID model with MMEngine's Runner (mmpretrain's flags)."""
import argparse
import logging
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner, find_latest_checkpoint
from mmengine.utils import digit_version
from mmengine.utils.dl_utils import TORCH_VERSION

from mmdcct.utils import (ignore_mmcv_lite_warning,
                          install_safe_checkpoint_loading,
                          setup_cpu_distributed, validate_config)
from mmdcct.utils.checkpoint_safety import CheckpointDownloadError
from mmdcct.utils.dist_utils import shutdown_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Train a video Re-ID model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='whether not to evaluate the checkpoint during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='whether to auto scale the learning rate according to the '
        'actual batch size and the original batch size.')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='whether to disable the pin_memory option in dataloaders.')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='whether to disable the persistent_workers option in '
        'dataloaders.')
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
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # When using PyTorch version >= 2.0.0, the `torch.distributed.launch`
    # will pass the `--local-rank` parameter to `tools/train.py` instead
    # of `--local_rank`.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_amp(cfg, cuda: Optional[bool] = None):
    """Switch the config's optimizer wrapper to mixed precision.

    Args:
        cfg (Config): The config (modified in place).
        cuda (bool, optional): Whether training runs on CUDA. Defaults to
            ``torch.cuda.is_available()``.
    """
    if cuda is None:
        cuda = torch.cuda.is_available()
    amp_types = ('AmpOptimWrapper', 'AutocastOptimWrapper',
                 'mmdcct.AutocastOptimWrapper')
    optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim_wrapper not in ('OptimWrapper', ) + amp_types:
        raise ValueError('--amp supports optim_wrapper.type OptimWrapper '
                         f'(or an AMP wrapper), got {optim_wrapper!r}')
    if cuda:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'mmdcct.AutocastOptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
        cfg.optim_wrapper.dtype = 'bfloat16'


def merge_args(cfg, args):
    """Merge CLI arguments to config.

    The flags and the tools' defaults are applied first and
    ``--cfg-options`` last, so it can override any of them; what depends on
    the final values (``--no-validate``, ``persistent_workers`` without
    workers, ``--resume`` with nothing to resume) is settled after it.
    """
    cfg.launcher = args.launcher

    # work_dir is determined in this priority: CLI > segment in file > name
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    # enable automatic-mixed-precision training: float16 + dynamic loss
    # scaling on CUDA, bfloat16 autocast (no scaling needed) on the CPU
    if args.amp is True:
        enable_amp(cfg)

    # resume training
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    # enable auto scale learning rate
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True

    # set dataloader args
    default_dataloader_cfg = ConfigDict(
        pin_memory=torch.cuda.is_available(),
        persistent_workers=True,
    )
    if digit_version(TORCH_VERSION) < digit_version('1.8.0'):
        default_dataloader_cfg.persistent_workers = False

    def set_default_dataloader_cfg(cfg, field):
        if cfg.get(field, None) is None:
            return
        dataloader_cfg = cfg[field]
        for key, value in default_dataloader_cfg.items():
            dataloader_cfg.setdefault(key, value)  # the config's win
        if args.no_pin_memory:
            dataloader_cfg['pin_memory'] = False
        if args.no_persistent_workers:
            dataloader_cfg['persistent_workers'] = False

    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        set_default_dataloader_cfg(cfg, field)

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # after the overrides: they may set val_* keys (e.g. a data_root) that
    # --no-validate then drops, or num_workers=0
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataloader_cfg = cfg.get(field, None)
        # torch refuses persistent_workers=True without workers
        if dataloader_cfg is not None and not dataloader_cfg.get(
                'num_workers', 0):
            dataloader_cfg['persistent_workers'] = False
    check_resume(cfg)
    return cfg


def check_resume(cfg) -> None:
    """Settle ``resume=True`` before the Runner is built.

    Without ``load_from`` the Runner resumes from ``WORK_DIR/
    last_checkpoint``; when there is none, training starts from scratch
    (said once here instead of MMEngine's "resumed from the latest
    checkpoint None"). An explicit local checkpoint that does not exist is
    an error.

    Raises:
        FileNotFoundError: If the checkpoint to resume from does not exist.
    """
    if not cfg.get('resume', False):
        return
    load_from = cfg.get('load_from', None)
    if load_from is None:
        latest = find_latest_checkpoint(cfg.work_dir)
        if latest is None:
            print_log(
                f'--resume: no checkpoint found in {cfg.work_dir} (no '
                'last_checkpoint file): starting from scratch.',
                logger='current',
                level=logging.WARNING)
            cfg.resume = False
        elif '://' not in latest and not osp.isfile(latest):
            raise FileNotFoundError(
                f'--resume: {osp.join(cfg.work_dir, "last_checkpoint")} '
                f'names {latest}, which does not exist. Pass the checkpoint '
                'to resume from (--resume PATH), or delete last_checkpoint '
                'to start from scratch.')
    elif '://' not in load_from and not osp.isfile(
            osp.expanduser(load_from)):
        raise FileNotFoundError(
            f'--resume {load_from}: no such checkpoint file. Check the path, '
            'or pass --resume without a path to resume from the latest '
            f'checkpoint in {cfg.work_dir} (if any).')


def pretrained_checkpoints(cfg) -> List[Tuple[str, str]]:
    """``(config key, checkpoint)`` of every ``init_cfg`` checkpoint of the
    model, and of ``load_from``."""
    found = []

    def visit(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                child = f'{path}.{key}'
                if key == 'init_cfg':
                    inits = value if isinstance(value, list) else [value]
                    for i, init in enumerate(inits):
                        if isinstance(init, dict) and isinstance(
                                init.get('checkpoint'), str):
                            where = child if len(inits) == 1 else (
                                f'{child}[{i}]')
                            found.append((f'{where}.checkpoint',
                                          init['checkpoint']))
                visit(value, child)
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                visit(value, f'{path}[{i}]')

    visit(cfg.get('model', {}), 'model')
    if isinstance(cfg.get('load_from', None), str):
        found.append(('load_from', cfg.load_from))
    return found


def _refers_to(checkpoint: str, url: str) -> bool:
    """Whether a config's checkpoint value downloads ``url`` (directly,
    behind a prefix such as ``timm-vit://``, or as a model-zoo name)."""
    if checkpoint == url or checkpoint.endswith('://' + url):
        return True
    if checkpoint.startswith(('torchvision://', 'modelzoo://')):
        from mmengine.runner.checkpoint import get_torchvision_models
        name = checkpoint.split('://', 1)[1]
        return get_torchvision_models().get(name) == url
    return False


def main():
    args = parse_args()

    # resume / load_from / Pretrained init load weights-only: MMEngine's own
    # types are allow-listed, anything that could run code is refused
    install_safe_checkpoint_loading()
    ignore_mmcv_lite_warning()

    # load config
    cfg = Config.fromfile(args.config)

    # merge cli arguments to config
    cfg = merge_args(cfg, args)

    # contradictory settings fail here, naming both values
    validate_config(cfg)

    # the backend (unset: nccl with CUDA, gloo without); on CPU-only
    # machines a gloo process group and a CPU-friendly DDP wrapper
    setup_cpu_distributed(cfg, args.launcher)

    # build the runner from config
    runner = Runner.from_cfg(cfg)

    # start training
    try:
        runner.train()
    except CheckpointDownloadError as err:
        # one message naming the URL, the config key and the ways around it
        keys = [k for k, c in pretrained_checkpoints(cfg)
                if _refers_to(c, err.url)]
        err = err.with_keys(keys)
        # every rank gets here (rank 0 shares its failure); the full message
        # once per machine and first, then a pointer to it from the others
        first = int(os.environ.get('LOCAL_RANK', '0')) == 0
        if first:
            runner.logger.error(str(err))
            sys.stdout.flush()
        if torch.distributed.is_initialized():
            torch.distributed.barrier()
        if not first:
            runner.logger.error(
                f'stopped: could not download {err.url} (see local rank 0)')
        sys.exit(1)
    shutdown_distributed()


if __name__ == '__main__':
    main()

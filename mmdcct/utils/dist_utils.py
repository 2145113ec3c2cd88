"""Distributed launch: the default backend, and gloo on CPU-only machines."""
import os
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log

#: ``env_cfg.dist_cfg.backend`` values that mean "pick for this machine".
AUTO_BACKENDS = (None, 'auto')


def resolve_dist_backend(cfg: Config,
                         cuda: Optional[bool] = None) -> Optional[str]:
    """Pick ``nccl`` with CUDA and ``gloo`` without it, unless set.

    MMEngine passes ``env_cfg.dist_cfg`` to ``init_dist`` as it is, and a
    config value cannot depend on the machine, so the default runtime leaves
    the backend unset (``None``) and the tools resolve it here, before the
    Runner is built. An explicit backend (``'nccl'``, ``'gloo'``, ``'mpi'``)
    is kept.

    Args:
        cfg (Config): The full config; ``env_cfg.dist_cfg.backend`` is set
            in place when it is missing, ``None`` or ``'auto'``.
        cuda (bool, optional): Whether CUDA is available. Defaults to
            ``torch.cuda.is_available()``.

    Returns:
        str | None: The backend chosen here, or None if the config set one.
    """
    env_cfg = cfg.get('env_cfg')
    if env_cfg is None:
        cfg.env_cfg = env_cfg = dict()
    dist_cfg = env_cfg.get('dist_cfg')
    if dist_cfg is None:
        env_cfg['dist_cfg'] = dist_cfg = dict()
    if dist_cfg.get('backend') not in AUTO_BACKENDS:
        return None
    if cuda is None:
        cuda = torch.cuda.is_available()
    dist_cfg['backend'] = 'nccl' if cuda else 'gloo'
    return dist_cfg['backend']


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Resolve the backend; initialise gloo for CPU-only distributed runs.

    First :func:`resolve_dist_backend` (logged for distributed runs). Then,
    MMEngine 0.10.7's ``pytorch`` launcher calls ``torch.cuda.set_device``
    before ``init_process_group`` and its default DDP wrapper passes
    ``device_ids=[local_rank]``; both fail without CUDA. The Runner skips its
    own initialisation when a process group exists, so on a CPU-only machine
    we create it here (with the config's backend) and wrap the model with
    ``device_ids=None``. With CUDA available nothing else changes.

    Args:
        cfg (Config): The full config; ``env_cfg.dist_cfg.backend`` (unset:
            gloo on CPU) and ``model_wrapper_cfg`` are set when absent.
        launcher (str): The job launcher (``'none'``, ``'pytorch'``, ...).

    Returns:
        bool: True if this function initialised the process group.

    Raises:
        RuntimeError: Without CUDA, if the config explicitly sets a backend
            other than gloo, or the launcher is not ``'pytorch'``.
    """
    chosen = resolve_dist_backend(cfg)
    if launcher != 'none' and os.environ.get('RANK', '0') == '0':
        backend = cfg.env_cfg.dist_cfg.backend
        if chosen is None:
            how = 'set by env_cfg.dist_cfg.backend'
        else:
            how = ('env_cfg.dist_cfg.backend unset: '
                   + ('CUDA available' if chosen == 'nccl' else
                      'no CUDA device'))
        print_log(
            f'Distributed backend: {backend} ({how})', logger='current')
    if (launcher == 'none' or torch.cuda.is_available()
            or torch_dist.is_initialized()):
        return False
    dist_cfg = dict(cfg.env_cfg.dist_cfg)
    backend = dist_cfg.pop('backend')
    if backend != 'gloo':
        raise RuntimeError(
            f'No CUDA device is available but env_cfg.dist_cfg.backend is '
            f'{backend!r}. For a CPU-only distributed run use gloo: remove '
            'the setting (unset means gloo without CUDA) or pass '
            '`--cfg-options env_cfg.dist_cfg.backend=gloo`.')
    if launcher != 'pytorch':
        raise RuntimeError(
            f'CPU-only distributed runs support launcher="pytorch" '
            f'(torchrun / tools/dist_train.sh), got {launcher!r}.')
    os.environ.setdefault('LOCAL_RANK', '0')
    torch_dist.init_process_group(backend='gloo', **dist_cfg)
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None)
    return True


def shutdown_distributed() -> None:
    """Tear the default process group down once every rank got here.

    Without it, a rank that finishes first exits while its peers still hold
    gloo connections to it; torch then aborts that rank at exit ("terminate
    called without an active exception") and can leave the others waiting.
    A no-op when no process group is initialised.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()

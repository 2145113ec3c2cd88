"""Distributed launch on machines without CUDA (gloo on CPU)."""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Initialise a gloo process group for CPU-only distributed runs.

    MMEngine 0.10.7's ``pytorch`` launcher calls ``torch.cuda.set_device``
    before ``init_process_group`` and its default DDP wrapper passes
    ``device_ids=[local_rank]``; both fail without CUDA. The Runner skips its
    own initialisation when a process group exists, so on a CPU-only machine
    we create it here (with the config's backend) and wrap the model with
    ``device_ids=None``. With CUDA available nothing changes.

    Args:
        cfg (Config): The full config; ``env_cfg.dist_cfg.backend`` must be
            ``'gloo'`` for CPU runs, and ``model_wrapper_cfg`` is set when
            absent.
        launcher (str): The job launcher (``'none'``, ``'pytorch'``, ...).

    Returns:
        bool: True if this function initialised the process group.
    """
    if (launcher == 'none' or torch.cuda.is_available()
            or torch_dist.is_initialized()):
        return False
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}) or {})
    backend = dist_cfg.pop('backend', 'nccl')
    if backend != 'gloo':
        raise RuntimeError(
            f'No CUDA device is available but env_cfg.dist_cfg.backend is '
            f'{backend!r}. For a CPU-only distributed run set the gloo '
            "backend, e.g. `--cfg-options env_cfg.dist_cfg.backend=gloo`.")
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

"""Build a model from a config (and checkpoint) for inference."""
import warnings
from typing import Optional, Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmdcct.registry import MODELS
from mmdcct.utils import (register_all_modules, remove_pretrained_init,
                          safe_load_checkpoint)
from mmdcct.utils.setup_env import MMCV_LITE_WARNING

__all__ = ['init_model']


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a video Re-ID model from a config file and load a checkpoint.

    Pretrained-backbone ``init_cfg`` entries are dropped when a checkpoint is
    given (no download); the checkpoint is loaded with torch's weights-only
    unpickler (:func:`mmdcct.utils.safe_load_checkpoint`; the process's
    checkpoint loaders and safe globals are left as they are).

    Args:
        config (str | Config): Config file path or object.
        checkpoint (str, optional): Checkpoint path. None keeps the
            initialised weights.
        device (str): Device, e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options (dict, optional): Options merged into the config.

    Returns:
        nn.Module: The model in eval mode, with ``model.cfg`` and, when the
        checkpoint has it, ``model.dataset_meta`` set.
    """
    if isinstance(config, str):
        config = Config.fromfile(config)
    elif not isinstance(config, Config):
        raise TypeError('config must be a filename or Config object, '
                        f'but got {type(config)}')
    if cfg_options is not None:
        config.merge_from_dict(cfg_options)
    register_all_modules(init_default_scope=False)
    model_cfg = config.model
    if checkpoint is not None:
        model_cfg = remove_pretrained_init(model_cfg)
    # our registries, whatever the caller's default scope is
    with DefaultScope.overwrite_default_scope('mmdcct'), \
            warnings.catch_warnings():
        # building an mmpretrain part imports mmcv.cnn, which warns under
        # mmcv-lite about compiled ops no Re-ID component uses
        warnings.filterwarnings(
            'ignore', message=MMCV_LITE_WARNING, category=UserWarning)
        model = MODELS.build(model_cfg)
    if checkpoint is not None:
        ckpt = safe_load_checkpoint(model, checkpoint, map_location='cpu')
        model.dataset_meta = ckpt.get('meta', {}).get('dataset_meta', {})
    else:
        model.init_weights()
    model.cfg = config
    model.to(device)
    model.eval()
    return model

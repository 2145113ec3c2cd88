from .checkpoint_safety import (UnsafeCheckpointError, checkpoint_allow_list,
                                install_safe_checkpoint_loading,
                                is_trusted_checkpoint, load_checkpoint_file,
                                safe_load_checkpoint, trusted_checkpoints)
from .config_utils import remove_pretrained_init
from .config_validation import validate_config
from .dist_utils import setup_cpu_distributed
from .setup_env import ignore_mmcv_lite_warning, register_all_modules

__all__ = [
    'register_all_modules', 'remove_pretrained_init', 'setup_cpu_distributed',
    'validate_config', 'UnsafeCheckpointError', 'checkpoint_allow_list',
    'install_safe_checkpoint_loading', 'is_trusted_checkpoint',
    'load_checkpoint_file', 'safe_load_checkpoint', 'trusted_checkpoints',
    'ignore_mmcv_lite_warning'
]

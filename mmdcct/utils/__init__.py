from .checkpoint_safety import (UnsafeCheckpointError, is_trusted_checkpoint,
                                trusted_checkpoints)
from .config_utils import remove_pretrained_init
from .config_validation import validate_config
from .dist_utils import setup_cpu_distributed
from .random_state import get_random_state, set_random_state
from .resume import use_resumable_train_loop
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'remove_pretrained_init', 'setup_cpu_distributed',
    'validate_config', 'UnsafeCheckpointError', 'is_trusted_checkpoint',
    'trusted_checkpoints', 'get_random_state', 'set_random_state',
    'use_resumable_train_loop'
]

from .config_utils import remove_pretrained_init
from .config_validation import validate_config
from .dist_utils import setup_cpu_distributed
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'remove_pretrained_init', 'setup_cpu_distributed',
    'validate_config'
]

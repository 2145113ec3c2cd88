"""mmdcct: video-based person re-identification for OpenMMLab 2.x."""
import warnings

# mmcv-lite has no compiled ops; mmcv.cnn warns about that on import even
# though no Re-ID component needs them. Silence exactly that message.
warnings.filterwarnings(
    'ignore',
    message=r'Fail to import ``MultiScaleDeformableAttention``',
    category=UserWarning)

from .utils.checkpoint_safety import register_checkpoint_safe_globals  # noqa
from .version import __version__, version_info  # noqa: E402

# Resume / load_from / test must work with torch's weights_only loading.
register_checkpoint_safe_globals()

__all__ = ['__version__', 'version_info']

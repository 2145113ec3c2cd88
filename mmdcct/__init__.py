"""mmdcct: video-based person re-identification for OpenMMLab 2.x."""
import warnings

# mmcv-lite has no compiled ops; mmcv.cnn warns about that on import even
# though no Re-ID component needs them. Silence exactly that message.
warnings.filterwarnings(
    'ignore',
    message=r'Fail to import ``MultiScaleDeformableAttention``',
    category=UserWarning)

from .utils.checkpoint_safety import (  # noqa: E402
    install_safe_checkpoint_loading, register_checkpoint_safe_globals)
from .version import __version__, version_info  # noqa: E402

# Resume / load_from / Pretrained / test load weights-only: MMEngine's own
# types are allow-listed, anything else is refused (see checkpoint_safety).
install_safe_checkpoint_loading()

__all__ = ['__version__', 'version_info']

"""mmdcct: video-based person re-identification for OpenMMLab 2.x."""
import warnings

# mmcv-lite has no compiled ops; mmcv.cnn warns about that on import even
# though no Re-ID component needs them. Silence exactly that message.
warnings.filterwarnings(
    'ignore',
    message=r'Fail to import ``MultiScaleDeformableAttention``',
    category=UserWarning)

from .version import __version__, version_info  # noqa: E402

__all__ = ['__version__', 'version_info']

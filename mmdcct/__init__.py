"""mmdcct: video-based person re-identification for OpenMMLab 2.x.

Importing mmdcct (or any of its modules) registers components in its
registries and changes nothing else in the process. Entry points switch on
weights-only checkpoint loading explicitly with
:func:`mmdcct.utils.install_safe_checkpoint_loading`.
"""
from .version import __version__, version_info

__all__ = ['__version__', 'version_info']

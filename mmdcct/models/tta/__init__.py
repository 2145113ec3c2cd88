"""Test-time augmentation wrappers."""
from .video_reid_tta import VideoReIDTTAModel

__all__ = ['VideoReIDTTAModel']

"""MMEngine metrics of mmdcct."""
from .video_reid_metric import VideoReIDMetric

__all__ = ['VideoReIDMetric']

from .video_reid import VideoReID

__all__ = ['VideoReID']

from .video_reid_data_sample import VideoReIDDataSample, format_label

__all__ = ['VideoReIDDataSample', 'format_label']

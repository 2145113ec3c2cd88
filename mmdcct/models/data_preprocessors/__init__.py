from .batch_augments import TrackletBatchFlip, TrackletBatchRandomErasing
from .video_reid_data_preprocessor import VideoReIDDataPreprocessor

__all__ = [
    'VideoReIDDataPreprocessor', 'TrackletBatchFlip',
    'TrackletBatchRandomErasing'
]

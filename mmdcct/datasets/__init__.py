from .base_video_reid_dataset import (BaseVideoReIDDataset,
                                      sort_frames_by_number)
from .mars import MARS, parse_mars_name
from .samplers import *  # noqa: F401,F403
from .synthetic import make_synthetic_mars, mars_image_name
from .transforms import *  # noqa: F401,F403

__all__ = [
    'BaseVideoReIDDataset', 'sort_frames_by_number', 'MARS', 'parse_mars_name',
    'make_synthetic_mars', 'mars_image_name'
]

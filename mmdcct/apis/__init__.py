"""High-level APIs: build a model, embed tracklets, search a gallery."""
from .gallery import (DEFAULT_NAME_PATTERN, GalleryIndex,
                      format_search_results, parse_pid_camid)
from .inference import init_model
from .inferencer import (IMG_EXTENSIONS, LoadTrackletFromArray,
                         VideoReIDInferencer, find_tracklet_dirs,
                         list_tracklet_frames)

__all__ = [
    'init_model', 'VideoReIDInferencer', 'LoadTrackletFromArray',
    'list_tracklet_frames', 'find_tracklet_dirs', 'IMG_EXTENSIONS',
    'GalleryIndex', 'parse_pid_camid', 'format_search_results',
    'DEFAULT_NAME_PATTERN'
]

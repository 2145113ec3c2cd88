"""High-level APIs: build a model, embed tracklets, search a gallery."""
from .gallery import (DEFAULT_NAME_PATTERN, GalleryIndex,
                      check_feature_mode, find_tracklets,
                      format_search_results, parse_pid_camid)
from .faiss_backend import SEARCH_BACKENDS
from .inference import init_model
from .inferencer import (IMG_EXTENSIONS, LoadTrackletFromArray,
                         VideoReIDInferencer, find_tracklet_dirs,
                         list_tracklet_frames)
from .tracklet_folders import split_tracklet_frames
from .video_tracks import (crop_track_tracklets, find_tracks_file,
                           index_video_tracks, plan_tracklets,
                           read_mot_tracks)

__all__ = [
    'init_model', 'VideoReIDInferencer', 'LoadTrackletFromArray',
    'list_tracklet_frames', 'find_tracklet_dirs', 'IMG_EXTENSIONS',
    'GalleryIndex', 'parse_pid_camid', 'format_search_results',
    'DEFAULT_NAME_PATTERN', 'find_tracklets', 'check_feature_mode',
    'split_tracklet_frames', 'SEARCH_BACKENDS', 'read_mot_tracks',
    'plan_tracklets', 'crop_track_tracklets', 'index_video_tracks',
    'find_tracks_file'
]

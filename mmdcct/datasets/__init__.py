from .base_video_reid_dataset import (BaseVideoReIDDataset,
                                      sort_frames_by_number)
from .duke_video_reid import DukeMTMCVideoReID, parse_duke_video_name
from .ilids_vid import iLIDSVID, generate_ilidsvid_ls_set, ilidsvid_splits
from .mars import MARS, parse_mars_name
from .prid2011 import (PRID2011, generate_prid2011_splits,
                       prid2011_person_name)
from .samplers import *  # noqa: F401,F403
from .synthetic import (make_synthetic_duke_video, make_synthetic_ilids_vid,
                        make_synthetic_mars, make_synthetic_prid2011,
                        mars_image_name)
from .transforms import *  # noqa: F401,F403
from .two_camera_video_reid_dataset import TwoCameraVideoReIDDataset

__all__ = [
    'BaseVideoReIDDataset', 'sort_frames_by_number', 'MARS', 'parse_mars_name',
    'DukeMTMCVideoReID', 'parse_duke_video_name', 'iLIDSVID',
    'generate_ilidsvid_ls_set', 'ilidsvid_splits', 'PRID2011',
    'generate_prid2011_splits', 'prid2011_person_name',
    'TwoCameraVideoReIDDataset', 'make_synthetic_mars', 'mars_image_name',
    'make_synthetic_duke_video', 'make_synthetic_ilids_vid',
    'make_synthetic_prid2011'
]

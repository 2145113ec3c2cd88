from .base_video_reid_dataset import (BaseVideoReIDDataset,
                                      sort_frames_by_number)
from .concat_video_reid_dataset import ConcatVideoReIDDataset
from .duke_video_reid import DukeMTMCVideoReID, parse_duke_video_name
from .ilids_vid import iLIDSVID, generate_ilidsvid_ls_set, ilidsvid_splits
from .ls_vid import LSVID, parse_ls_vid_camera
from .mars import MARS, parse_mars_name
from .prid2011 import (PRID2011, generate_prid2011_splits,
                       prid2011_person_name)
from .samplers import *  # noqa: F401,F403
from .transforms import *  # noqa: F401,F403
from .two_camera_video_reid_dataset import TwoCameraVideoReIDDataset

__all__ = [
    'BaseVideoReIDDataset', 'sort_frames_by_number', 'MARS', 'parse_mars_name',
    'DukeMTMCVideoReID', 'parse_duke_video_name', 'iLIDSVID',
    'generate_ilidsvid_ls_set', 'ilidsvid_splits', 'PRID2011',
    'generate_prid2011_splits', 'prid2011_person_name',
    'TwoCameraVideoReIDDataset', 'LSVID', 'parse_ls_vid_camera',
    'ConcatVideoReIDDataset'
]

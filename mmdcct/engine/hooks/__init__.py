from .atomic_checkpoint_hook import AtomicCheckpointHook
from .check_invalid_loss_terms_hook import CheckInvalidLossTermsHook
from .num_classes_check_hook import NumClassesCheckHook
from .resume_state_hook import ResumeStateHook
from .video_reid_visualization_hook import VideoReIDVisualizationHook

__all__ = [
    'AtomicCheckpointHook', 'CheckInvalidLossTermsHook',
    'NumClassesCheckHook', 'ResumeStateHook', 'VideoReIDVisualizationHook'
]

from .bnneck import BNNeck
from .self_distillation_head import SelfDistillationHead
from .video_reid_head import VideoReIDHead

__all__ = ['BNNeck', 'SelfDistillationHead', 'VideoReIDHead']

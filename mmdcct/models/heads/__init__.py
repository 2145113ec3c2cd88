from .bnneck import BNNeck
from .bnneck_head import BNNeckHead, VideoReIDHead
from .self_distillation_head import SelfDistillationHead

__all__ = ['BNNeck', 'BNNeckHead', 'SelfDistillationHead', 'VideoReIDHead']

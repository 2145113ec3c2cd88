from .feature_distillation_loss import FeatureDistillationLoss
from .logit_distillation_loss import LogitDistillationLoss
from .triplet_loss import TripletLoss, pairwise_distance

__all__ = [
    'FeatureDistillationLoss', 'LogitDistillationLoss', 'TripletLoss',
    'pairwise_distance'
]

"""Functional (framework-free) evaluation helpers."""
from .distance import DISTANCE_METRICS, compute_distance
from .rank import evaluate_rank, evaluate_rank_from_features

__all__ = [
    'DISTANCE_METRICS', 'compute_distance', 'evaluate_rank',
    'evaluate_rank_from_features'
]

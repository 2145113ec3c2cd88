"""Functional (framework-free) evaluation helpers."""
from .distance import DISTANCE_METRICS, compute_distance
from .rank import evaluate_rank, evaluate_rank_from_features

__all__ = [
    'DISTANCE_METRICS', 'compute_distance', 'evaluate_rank',
    'evaluate_rank_from_features'
]
from .split_metrics import (aggregate_split_metrics,  # noqa: E402
                            format_split_metrics, parse_split_ids)

__all__ += [
    'aggregate_split_metrics', 'format_split_metrics', 'parse_split_ids'
]

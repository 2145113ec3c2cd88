"""Functional (framework-free) evaluation helpers."""
from .distance import DISTANCE_METRICS, compute_distance, distance_chunks
from .query_expansion import average_query_expansion
from .rank import evaluate_rank, evaluate_rank_from_features, rank_topk
from .re_ranking import re_ranking, re_ranking_from_features

__all__ = [
    'DISTANCE_METRICS', 'compute_distance', 'distance_chunks',
    'evaluate_rank', 'evaluate_rank_from_features', 'rank_topk',
    'average_query_expansion', 're_ranking', 're_ranking_from_features'
]
from .split_metrics import (aggregate_split_metrics,  # noqa: E402
                            format_split_metrics, parse_split_ids)

__all__ += [
    'aggregate_split_metrics', 'format_split_metrics', 'parse_split_ids'
]

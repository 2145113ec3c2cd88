from .complementary_content_attention import ComplementaryContentAttention
from .hierarchical_temporal_aggregation import HierarchicalTemporalAggregation
from .lstm_temporal_aggregation import LSTMTemporalAggregation
from .spatial_attention_pooling import SpatialAttentionPooling

__all__ = [
    'ComplementaryContentAttention', 'HierarchicalTemporalAggregation',
    'LSTMTemporalAggregation', 'SpatialAttentionPooling'
]

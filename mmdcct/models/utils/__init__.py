from .gated_attention import GatedAttention
from .temporal_attention import TemporalMultiheadAttention
from .temporal_transformer_block import TemporalTransformerBlock

__all__ = [
    'GatedAttention', 'TemporalMultiheadAttention', 'TemporalTransformerBlock'
]

from .activation_checkpointing import turn_on_activation_checkpointing
from .gated_attention import GatedAttention
from .temporal_attention import TemporalMultiheadAttention
from .temporal_transformer_block import TemporalTransformerBlock

__all__ = [
    'turn_on_activation_checkpointing', 'GatedAttention',
    'TemporalMultiheadAttention', 'TemporalTransformerBlock'
]

from .activation_checkpointing import turn_on_activation_checkpointing
from .gated_attention import GatedAttention
from .temporal_attention import TemporalMultiheadAttention
from .temporal_transformer_block import TemporalTransformerBlock
from .timm_vit_converter import (TIMM_VIT_SCHEME, TimmViTConversionError,
                                 convert_timm_vit, load_from_timm_vit)

__all__ = [
    'turn_on_activation_checkpointing', 'GatedAttention',
    'TemporalMultiheadAttention', 'TemporalTransformerBlock',
    'TIMM_VIT_SCHEME', 'TimmViTConversionError', 'convert_timm_vit',
    'load_from_timm_vit'
]

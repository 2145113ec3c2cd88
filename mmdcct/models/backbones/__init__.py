from .coupled_backbone import CoupledBackbone
from .single_backbone import SingleBackbone

__all__ = ['CoupledBackbone', 'SingleBackbone']

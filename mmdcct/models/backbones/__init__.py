from .coupled_backbone import CoupledBackbone

__all__ = ['CoupledBackbone']

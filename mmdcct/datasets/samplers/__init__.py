"""Data samplers (registered in ``mmdcct`` DATA_SAMPLERS)."""
from .identity_balanced_sampler import IdentityBalancedSampler

__all__ = ['IdentityBalancedSampler']

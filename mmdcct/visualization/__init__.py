"""Visualisation components (registered in ``mmdcct.registry.VISUALIZERS``).

The rank-list and attention visualisers are added here.
"""

__all__ = []

"""A toy "other OpenMMLab codebase" that evaluates with mmdcct's metric.

Importing this package registers :class:`ToyTrackletDataset` and
:class:`ToyTrackletEmbedder` in **mmpretrain's** registries (scope
``mmpretrain``), not in mmdcct's.
"""
from .toy_dataset import ToyTrackletDataset
from .toy_model import ToyTrackletEmbedder

__all__ = ['ToyTrackletDataset', 'ToyTrackletEmbedder']

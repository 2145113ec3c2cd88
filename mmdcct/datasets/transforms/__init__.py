"""Data transforms for video Re-ID tracklets (all in ``mmdcct`` TRANSFORMS).

Standard order: ``RestrictedRandomSampling`` -> ``LoadTrackletFrames`` ->
``TrackletBroadcaster(transforms=[...image transforms...])`` ->
``PackVideoReIDInputs``.
"""
from .augmentations import TrackletBroadcaster, TrackletRandomErasing
from .formatting import PackVideoReIDInputs
from .loading import LoadTrackletFrames
from .sampling import RestrictedRandomSampling, rrs_chunk_bounds

__all__ = [
    'RestrictedRandomSampling', 'rrs_chunk_bounds', 'LoadTrackletFrames',
    'TrackletBroadcaster', 'TrackletRandomErasing', 'PackVideoReIDInputs'
]

"""Data transforms for video Re-ID tracklets (all in ``mmdcct`` TRANSFORMS).

Standard order: a frame sampling (``RestrictedRandomSampling``,
``IntervalSampleFrames`` or ``EvenlySampleFrames``) -> ``LoadTrackletFrames``
(``LoadTrackletFromArray`` for in-memory tracklets) ->
``TrackletBroadcaster(transforms=[...image transforms...])`` ->
``PackVideoReIDInputs``.
"""
from .augmentations import TrackletBroadcaster, TrackletRandomErasing
from .formatting import PackVideoReIDInputs
from .loading import LoadTrackletFrames, LoadTrackletFromArray
from .sampling import (FRAME_SAMPLING_TYPES, BaseFrameSampling,
                       EvenlySampleFrames, IntervalSampleFrames,
                       RestrictedRandomSampling, rrs_chunk_bounds)

__all__ = [
    'BaseFrameSampling', 'RestrictedRandomSampling', 'IntervalSampleFrames',
    'EvenlySampleFrames', 'FRAME_SAMPLING_TYPES', 'rrs_chunk_bounds',
    'LoadTrackletFrames', 'LoadTrackletFromArray', 'TrackletBroadcaster',
    'TrackletRandomErasing', 'PackVideoReIDInputs'
]

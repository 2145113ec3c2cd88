"""Temporal frame sampling for video Re-ID tracklets.

Config-level contract::

    dict(type='RestrictedRandomSampling', num_frames=8, mode='random')  # train
    dict(type='RestrictedRandomSampling', num_frames=8, mode='begin')   # test

The transform only chooses *which* frames are used; it writes indices into
``img_paths`` and leaves the reading to :class:`LoadTrackletFrames`.

Required keys: ``img_paths`` (list[str], temporal order). ``num_frames`` of
the tracklet is taken from ``len(img_paths)`` (the ``num_frames`` result key,
if present, is ignored so that a stale value can never index out of range).

Added keys:

- ``frame_inds`` (np.ndarray): ``np.int64`` array of shape
  ``(num_clips * clip_len,)``; clip ``c`` owns
  ``frame_inds[c * clip_len:(c + 1) * clip_len]``, each in temporal order.
- ``num_clips`` (int): number of clips (1 for the modes implemented here).
- ``clip_len`` (int): frames per clip, ``T = num_frames``.
"""
from typing import Callable, Dict, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmdcct.registry import TRANSFORMS

__all__ = ['RestrictedRandomSampling', 'rrs_chunk_bounds']


def rrs_chunk_bounds(num_total: int,
                     num_frames: int) -> Tuple[np.ndarray, np.ndarray]:
    """Split ``num_total`` ordered frames into ``num_frames`` chunks.

    Chunk ``k`` (``k = 0..T-1``) is the half-open index range
    ``[floor(k * n / T), floor((k + 1) * n / T))``. For ``n >= T`` the chunks
    are contiguous, non-empty, cover every frame exactly once, and their
    lengths differ by at most one. For ``n < T`` the tracklet is first padded
    to ``T`` frames by in-order repetition -- padded frame ``k`` is original
    frame ``floor(k * n / T)`` -- and every chunk holds exactly that single
    frame (e.g. ``n = 3, T = 8`` gives ``0, 0, 0, 1, 1, 1, 2, 2``; every
    original frame appears ``floor(T / n)`` or ``ceil(T / n)`` times).

    Args:
        num_total (int): Number of frames ``n`` in the tracklet, ``n >= 1``.
        num_frames (int): Number of chunks ``T``, ``T >= 1``.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``starts`` and ``ends``, two
        ``np.int64`` arrays of shape ``(T,)``; chunk ``k`` is
        ``range(starts[k], ends[k])`` and ``ends[k] > starts[k]`` always.
    """
    if num_total < 1:
        raise ValueError(f'A tracklet needs at least one frame, got '
                         f'{num_total}.')
    if num_frames < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}.')
    k = np.arange(num_frames + 1, dtype=np.int64)
    bounds = (k * num_total) // num_frames
    starts = bounds[:-1]
    if num_total >= num_frames:
        ends = bounds[1:]
    else:
        # padded tracklet: one (repeated) frame per chunk
        ends = starts + 1
    return starts, ends


@TRANSFORMS.register_module()
class RestrictedRandomSampling(BaseTransform):
    """Restricted Random Sampling (RRS) of ``T`` frames from a tracklet.

    The tracklet's frames, in temporal order, are split into ``T`` equal
    chunks (see :func:`rrs_chunk_bounds` for the exact rule, including the
    in-order padding of tracklets shorter than ``T``):

    - ``mode='random'`` (train): one frame drawn uniformly from each chunk,
      with numpy's global RNG (seeded by MMEngine's ``set_random_seed`` and
      the dataloader ``worker_init_fn``), so runs are reproducible.
    - ``mode='begin'`` (test): the first frame of each chunk; deterministic.

    Tracklets shorter than ``T`` give the same padded indices in both modes.
    The returned indices are always non-decreasing (temporal order).

    New modes are added by registering a sampling method in ``MODES``
    (``mode name -> method name``); a method takes the tracklet length ``n``
    and returns ``(frame_inds, num_clips)`` with ``frame_inds`` of shape
    ``(num_clips * T,)``. Planned: ``'dense'``, ``'evenly'`` and the authors'
    ``'random_interval'`` / ``'begin_interval'``.

    Required keys: ``img_paths``.

    Added keys: ``frame_inds`` (``np.int64``, shape ``(num_clips * T,)``),
    ``num_clips`` (int), ``clip_len`` (int, ``T``).

    Args:
        num_frames (int): Frames per clip ``T``. Defaults to 8.
        mode (str): Sampling mode, one of ``MODES``. Defaults to 'random'.
    """

    MODES: Dict[str, str] = {
        'random': '_sample_random',
        'begin': '_sample_begin',
    }

    def __init__(self, num_frames: int = 8, mode: str = 'random') -> None:
        super().__init__()
        if not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(
                f'num_frames must be a positive int, got {num_frames!r}.')
        if mode not in self.MODES:
            raise ValueError(f'Unknown sampling mode {mode!r}; expected one '
                             f'of {sorted(self.MODES)}.')
        self.num_frames = num_frames
        self.mode = mode

    @cache_randomness
    def _random_unit(self) -> np.ndarray:
        """Draw ``T`` uniform numbers in ``[0, 1)`` (one per chunk).

        Returns:
            np.ndarray: float array of shape ``(T,)``.
        """
        return np.random.random_sample(self.num_frames)

    def _sample_random(self, num_total: int) -> Tuple[np.ndarray, int]:
        """One uniformly random frame per chunk (train).

        Args:
            num_total (int): Tracklet length ``n``.

        Returns:
            tuple[np.ndarray, int]: indices of shape ``(T,)`` and 1 clip.
        """
        starts, ends = rrs_chunk_bounds(num_total, self.num_frames)
        offsets = np.floor(self._random_unit() * (ends - starts)).astype(
            np.int64)
        # guard against floating point rounding up to the chunk length
        offsets = np.minimum(offsets, ends - starts - 1)
        return starts + offsets, 1

    def _sample_begin(self, num_total: int) -> Tuple[np.ndarray, int]:
        """The first frame of each chunk (test).

        Args:
            num_total (int): Tracklet length ``n``.

        Returns:
            tuple[np.ndarray, int]: indices of shape ``(T,)`` and 1 clip.
        """
        starts, _ = rrs_chunk_bounds(num_total, self.num_frames)
        return starts.copy(), 1

    def transform(self, results: dict) -> dict:
        """Sample the frame indices of one tracklet.

        Args:
            results (dict): Must contain ``img_paths``.

        Returns:
            dict: ``results`` with ``frame_inds``, ``num_clips`` and
            ``clip_len`` added.
        """
        num_total = len(results['img_paths'])
        if num_total == 0:
            raise ValueError('Cannot sample frames from an empty tracklet '
                             f'(tracklet_id={results.get("tracklet_id")!r}, '
                             f'sample_idx={results.get("sample_idx")!r}).')
        sample_fn: Callable = getattr(self, self.MODES[self.mode])
        frame_inds, num_clips = sample_fn(num_total)
        results['frame_inds'] = np.asarray(frame_inds, dtype=np.int64)
        results['num_clips'] = int(num_clips)
        results['clip_len'] = self.num_frames
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_frames={self.num_frames}, '
                f"mode='{self.mode}')")

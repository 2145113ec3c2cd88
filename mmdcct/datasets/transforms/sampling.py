"""Temporal frame sampling for video Re-ID tracklets.

Config-level contract::

    dict(type='RestrictedRandomSampling', num_frames=8, mode='random')  # train
    dict(type='RestrictedRandomSampling', num_frames=8, mode='begin')   # test
    dict(type='RestrictedRandomSampling', num_frames=8, mode='dense',
         max_clips=None)                                   # dense test

The transform only chooses *which* frames are used; it writes indices into
``img_paths`` and leaves the reading to :class:`LoadTrackletFrames`.

Required keys: ``img_paths`` (list[str], temporal order). ``num_frames`` of
the tracklet is taken from ``len(img_paths)`` (the ``num_frames`` result key,
if present, is ignored so that a stale value can never index out of range).

Added keys:

- ``frame_inds`` (np.ndarray): ``np.int64`` array of shape
  ``(num_clips * clip_len,)``; clip ``c`` owns
  ``frame_inds[c * clip_len:(c + 1) * clip_len]``.
- ``num_clips`` (int): number of clips (``> 1`` only for the dense modes);
  the model averages the clip features of a tracklet
  (:meth:`mmdcct.models.VideoReID.extract_test_feat`).
- ``clip_len`` (int): frames per clip, ``T = num_frames``.

Modes (``n`` is the tracklet length, ``T = num_frames``):

==================  =====  ===========================================
``mode``            clips  frames
==================  =====  ===========================================
``random``          1      RRS: one random frame of each of T chunks
``begin``           1      RRS: the first frame of each chunk
``evenly``          1      T frames evenly spaced over the tracklet
``dense``           ⌈n/T⌉  consecutive clips, the last one padded
``random_interval`` 1      authors' train sampling (window of T·s)
``begin_interval``  1      authors' test sampling (frames 0, s, 2s, ...)
``dense_strided``   ⌊n/T⌋  authors' dense test sampling (strided clips)
==================  =====  ===========================================

All modes except the authors' ``begin_interval`` / ``dense_strided`` fallback
for ``n < T`` (first frames repeated cyclically, as the authors do) return
the frames of each clip in temporal (non-decreasing) order. Tracklets with
batches of different ``num_clips`` cannot be stacked into one tensor: test
with ``batch_size=1`` in the dense modes unless every tracklet has the same
number of clips (e.g. ``max_clips`` reached by all of them).
"""
from typing import Callable, Dict, Optional, Tuple

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


def _select_clips(num_clips: int, max_clips: Optional[int]) -> np.ndarray:
    """Indices of the clips kept when at most ``max_clips`` are allowed.

    Args:
        num_clips (int): Number of available clips ``K``.
        max_clips (int, optional): The cap ``M``; None keeps every clip.

    Returns:
        np.ndarray: ``min(K, M)`` distinct, increasing clip indices
        ``floor(i * K / M)``, ``i = 0..M-1``, evenly spread over the clips
        (deterministic).
    """
    if max_clips is None or num_clips <= max_clips:
        return np.arange(num_clips, dtype=np.int64)
    return (np.arange(max_clips, dtype=np.int64) * num_clips) // max_clips


@TRANSFORMS.register_module()
class RestrictedRandomSampling(BaseTransform):
    """Restricted Random Sampling (RRS) of ``T`` frames from a tracklet, and
    the other temporal sampling schemes of video Re-ID.

    The paper's RRS splits the tracklet's frames, in temporal order, into
    ``T`` equal chunks (see :func:`rrs_chunk_bounds` for the exact rule,
    including the in-order padding of tracklets shorter than ``T``):

    - ``mode='random'`` (train): one frame drawn uniformly from each chunk.
    - ``mode='begin'`` (test): the first frame of each chunk; deterministic.

    Other modes:

    - ``mode='evenly'`` (test): ``T`` frames evenly spaced over the whole
      tracklet, first and last frame included: frame
      ``floor(k * (n - 1) / (T - 1))`` for ``k = 0..T-1`` (the middle frame
      ``floor((n - 1) / 2)`` if ``T = 1``); frames repeat in order when
      ``n < T``. Deterministic.
    - ``mode='dense'`` (test): every frame, as ``ceil(n / T)`` consecutive
      clips ``[0, T), [T, 2T), ...``; the last clip, of ``r <= T`` frames
      starting at frame ``b``, is padded to ``T`` by in-order repetition
      (frame ``b + floor(k * r / T)``, like a short tracklet). With
      ``max_clips`` set and more clips available, ``max_clips`` clips evenly
      spread over the tracklet are kept (clip ``floor(i * K / max_clips)``).
    - ``mode='random_interval'`` (the authors' train sampling): the stride
      ``s`` starts at ``max_interval`` (8) and is halved (4, 2, 1) while
      ``n < T * s``; a window of ``T * s`` consecutive frames starts at a
      uniformly random frame and one random frame is drawn from each of its
      ``T`` blocks of ``s`` frames. A tracklet shorter than ``T`` gives
      ``T`` random frames drawn with replacement, sorted.
    - ``mode='begin_interval'`` (the authors' test sampling): frames
      ``0, s, 2s, ..., (T - 1) s`` with the largest ``s`` of
      ``max_interval, max_interval / 2, ..., 1`` such that ``n >= T * s``;
      a tracklet shorter than ``T`` gives its frames repeated cyclically,
      ``0, 1, ..., n-1, 0, 1, ...`` (the authors' padding: not in temporal
      order).
    - ``mode='dense_strided'`` (the authors' dense test sampling): with
      ``k = floor(n / T)``, clip ``j`` (``j = 0..k-1``) takes frames
      ``j, j + k, ..., j + (T - 1) k``, so every clip spans the tracklet;
      capped at ``max_clips`` like ``'dense'``; a tracklet shorter than
      ``T`` gives the single ``'begin_interval'`` clip.

    The random modes use numpy's global RNG (seeded by MMEngine's
    ``set_random_seed`` and the dataloader ``worker_init_fn``), so runs are
    reproducible.

    New modes are added by registering a sampling method in ``MODES``
    (``mode name -> method name``); a method takes the tracklet length ``n``
    and returns ``(frame_inds, num_clips)`` with ``frame_inds`` of shape
    ``(num_clips * T,)``.

    Required keys: ``img_paths``.

    Added keys: ``frame_inds`` (``np.int64``, shape ``(num_clips * T,)``),
    ``num_clips`` (int), ``clip_len`` (int, ``T``).

    Args:
        num_frames (int): Frames per clip ``T``. Defaults to 8.
        mode (str): Sampling mode, one of ``MODES``. Defaults to 'random'.
        max_clips (int, optional): The most clips per tracklet in the dense
            modes (bounds the memory of one tracklet; the model further runs
            at most ``test_cfg.max_clips_per_forward`` clips per forward).
            Ignored by the single-clip modes. Defaults to None (every clip).
        max_interval (int): The initial stride ``s`` of the authors'
            ``'random_interval'`` and ``'begin_interval'`` modes. Defaults
            to 8.
    """

    MODES: Dict[str, str] = {
        'random': '_sample_random',
        'begin': '_sample_begin',
        'evenly': '_sample_evenly',
        'dense': '_sample_dense',
        'random_interval': '_sample_random_interval',
        'begin_interval': '_sample_begin_interval',
        'dense_strided': '_sample_dense_strided',
    }

    def __init__(self,
                 num_frames: int = 8,
                 mode: str = 'random',
                 max_clips: Optional[int] = None,
                 max_interval: int = 8) -> None:
        super().__init__()
        if not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(
                f'num_frames must be a positive int, got {num_frames!r}.')
        if mode not in self.MODES:
            raise ValueError(f'Unknown sampling mode {mode!r}; expected one '
                             f'of {sorted(self.MODES)}.')
        if max_clips is not None and (not isinstance(max_clips, int)
                                      or max_clips < 1):
            raise ValueError(f'max_clips must be None or a positive int, got '
                             f'{max_clips!r}.')
        if not isinstance(max_interval, int) or max_interval < 1:
            raise ValueError(f'max_interval must be a positive int, got '
                             f'{max_interval!r}.')
        self.num_frames = num_frames
        self.mode = mode
        self.max_clips = max_clips
        self.max_interval = max_interval

    # ------------------------------------------------------------ randomness
    @cache_randomness
    def _random_unit(self) -> np.ndarray:
        """Draw ``T`` uniform numbers in ``[0, 1)`` (one per chunk).

        Returns:
            np.ndarray: float array of shape ``(T,)``.
        """
        return np.random.random_sample(self.num_frames)

    @cache_randomness
    def _random_start(self) -> float:
        """Draw one uniform number in ``[0, 1)`` (a window start).

        Returns:
            float: The number.
        """
        return float(np.random.random_sample())

    @staticmethod
    def _scale(unit: np.ndarray, size) -> np.ndarray:
        """Map uniform ``[0, 1)`` numbers to integers in ``[0, size)``."""
        size = np.asarray(size, dtype=np.int64)
        out = np.floor(unit * size).astype(np.int64)
        # guard against floating point rounding up to ``size``
        return np.minimum(out, size - 1)

    def _interval(self, num_total: int) -> int:
        """The largest stride of ``max_interval, max_interval // 2, ..., 1``
        whose window of ``T * s`` frames fits in the tracklet (1 if none)."""
        stride = self.max_interval
        while stride > 1 and num_total < self.num_frames * stride:
            stride //= 2
        return stride

    # ------------------------------------------------------------ the modes
    def _sample_random(self, num_total: int) -> Tuple[np.ndarray, int]:
        """One uniformly random frame per chunk (train).

        Args:
            num_total (int): Tracklet length ``n``.

        Returns:
            tuple[np.ndarray, int]: indices of shape ``(T,)`` and 1 clip.
        """
        starts, ends = rrs_chunk_bounds(num_total, self.num_frames)
        return starts + self._scale(self._random_unit(), ends - starts), 1

    def _sample_begin(self, num_total: int) -> Tuple[np.ndarray, int]:
        """The first frame of each chunk (test).

        Args:
            num_total (int): Tracklet length ``n``.

        Returns:
            tuple[np.ndarray, int]: indices of shape ``(T,)`` and 1 clip.
        """
        starts, _ = rrs_chunk_bounds(num_total, self.num_frames)
        return starts.copy(), 1

    def _sample_evenly(self, num_total: int) -> Tuple[np.ndarray, int]:
        """``T`` frames evenly spaced over the tracklet, ends included.

        Args:
            num_total (int): Tracklet length ``n``.

        Returns:
            tuple[np.ndarray, int]: indices of shape ``(T,)`` and 1 clip.
        """
        if self.num_frames == 1:
            return np.array([(num_total - 1) // 2], dtype=np.int64), 1
        k = np.arange(self.num_frames, dtype=np.int64)
        return (k * (num_total - 1)) // (self.num_frames - 1), 1

    def _sample_dense(self, num_total: int) -> Tuple[np.ndarray, int]:
        """Every frame as consecutive clips of ``T``, the last one padded.

        Args:
            num_total (int): Tracklet length ``n``.

        Returns:
            tuple[np.ndarray, int]: indices of shape ``(K * T,)`` and ``K``
            (``ceil(n / T)``, or ``max_clips`` if smaller).
        """
        t = self.num_frames
        num_clips = -(-num_total // t)
        k = np.arange(t, dtype=np.int64)
        clips = []
        for c in _select_clips(num_clips, self.max_clips).tolist():
            begin = c * t
            length = min(t, num_total - begin)
            clips.append(begin + (k * length) // t)
        return np.concatenate(clips), len(clips)

    def _sample_random_interval(self,
                                num_total: int) -> Tuple[np.ndarray, int]:
        """The authors' train sampling (see the class docstring).

        Args:
            num_total (int): Tracklet length ``n``.

        Returns:
            tuple[np.ndarray, int]: indices of shape ``(T,)`` and 1 clip.
        """
        t = self.num_frames
        unit = self._random_unit()
        if num_total < t:
            return np.sort(self._scale(unit, num_total)), 1
        stride = self._interval(num_total)
        num_starts = num_total - t * stride + 1
        start = int(
            self._scale(np.array([self._random_start()]), num_starts)[0])
        blocks = start + np.arange(t, dtype=np.int64) * stride
        return blocks + self._scale(unit, stride), 1

    def _sample_begin_interval(self, num_total: int) -> Tuple[np.ndarray, int]:
        """The authors' test sampling (see the class docstring).

        Args:
            num_total (int): Tracklet length ``n``.

        Returns:
            tuple[np.ndarray, int]: indices of shape ``(T,)`` and 1 clip.
        """
        k = np.arange(self.num_frames, dtype=np.int64)
        if num_total < self.num_frames:
            return k % num_total, 1
        return k * self._interval(num_total), 1

    def _sample_dense_strided(self, num_total: int) -> Tuple[np.ndarray, int]:
        """The authors' dense test sampling: strided clips.

        Args:
            num_total (int): Tracklet length ``n``.

        Returns:
            tuple[np.ndarray, int]: indices of shape ``(K * T,)`` and ``K``
            (``floor(n / T)``, or ``max_clips`` if smaller; 1 if ``n < T``).
        """
        step = num_total // self.num_frames
        if step == 0:
            return self._sample_begin_interval(num_total)
        k = np.arange(self.num_frames, dtype=np.int64) * step
        clips = [j + k for j in _select_clips(step, self.max_clips).tolist()]
        return np.concatenate(clips), len(clips)

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
                f"mode='{self.mode}', max_clips={self.max_clips}, "
                f'max_interval={self.max_interval})')

"""Temporal frame sampling of video Re-ID tracklets.

Three transforms choose *which* frames of a tracklet are used; they write
indices and leave the reading to :class:`LoadTrackletFrames`::

    dict(type='RestrictedRandomSampling', num_frames=8, mode='random')  # train
    dict(type='RestrictedRandomSampling', num_frames=8, mode='begin')   # test
    dict(type='RestrictedRandomSampling', num_frames=8, mode='dense',
         max_clips=None)                                   # dense test
    dict(type='IntervalSampleFrames', num_frames=8, mode='random',
         max_interval=8)                 # the authors' public code, train
    dict(type='EvenlySampleFrames', num_frames=8)   # evenly spaced, test

Required keys: ``img_paths`` (list[str], temporal order). The tracklet length
``n`` is ``len(img_paths)`` (a ``num_frames`` result key, if present, is
ignored so that a stale value can never index out of range).

Added keys:

- ``frame_inds`` (np.ndarray): ``np.int64`` array of shape
  ``(num_clips * clip_len,)``; clip ``c`` owns
  ``frame_inds[c * clip_len:(c + 1) * clip_len]``.
- ``num_clips`` (int): number of clips (``> 1`` only in the dense modes);
  the model averages the clip features of a tracklet.
- ``clip_len`` (int): frames per clip, ``T = num_frames``.

Tracklets of different ``num_clips`` cannot be stacked into one tensor: test
with ``batch_size=1`` in the dense modes unless every tracklet has the same
number of clips (e.g. ``max_clips`` reached by all of them).
"""
import warnings
from typing import Callable, Dict, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmdcct.registry import TRANSFORMS

__all__ = [
    'BaseFrameSampling', 'RestrictedRandomSampling', 'IntervalSampleFrames',
    'EvenlySampleFrames', 'rrs_chunk_bounds', 'FRAME_SAMPLING_TYPES'
]


def rrs_chunk_bounds(num_total: int,
                     num_frames: int) -> Tuple[np.ndarray, np.ndarray]:
    """Split ``num_total`` ordered frames into ``num_frames`` chunks.

    Chunk ``k`` (``k = 0..T-1``) is the half-open index range
    ``[floor(k * n / T), floor((k + 1) * n / T))``. For ``n >= T`` the chunks
    are contiguous, non-empty, cover every frame exactly once, and their
    lengths differ by at most one. For ``n < T`` the tracklet is first padded
    to ``T`` frames by in-order repetition -- padded frame ``k`` is original
    frame ``floor(k * n / T)`` -- and every chunk holds exactly that single
    frame (e.g. ``n = 3, T = 8`` gives ``0, 0, 0, 1, 1, 1, 2, 2``).

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
    """``min(K, M)`` increasing clip indices ``floor(i * K / M)`` evenly
    spread over ``K = num_clips`` clips (all of them if ``M`` is None)."""
    if max_clips is None or num_clips <= max_clips:
        return np.arange(num_clips, dtype=np.int64)
    return (np.arange(max_clips, dtype=np.int64) * num_clips) // max_clips


class BaseFrameSampling(BaseTransform):
    """Base of the frame-sampling transforms: argument checks, the seeded
    random draws and the dispatch of ``mode`` to a sampling method.

    A subclass lists its modes in ``MODES`` (``mode name -> method name``);
    a method takes the tracklet length ``n`` and returns
    ``(frame_inds, num_clips)`` with ``frame_inds`` of shape
    ``(num_clips * T,)``. Random draws use numpy's global RNG (seeded by
    MMEngine's ``set_random_seed`` and the dataloader ``worker_init_fn``).

    Args:
        num_frames (int): Frames per clip ``T``. Defaults to 8.
        mode (str): One of ``MODES``.
        max_clips (int, optional): The most clips per tracklet in a dense
            mode (bounds the memory of one tracklet); ignored by the
            single-clip modes. Defaults to None (every clip).
    """

    MODES: Dict[str, str] = {}

    def __init__(self,
                 num_frames: int = 8,
                 mode: str = 'random',
                 max_clips: Optional[int] = None) -> None:
        super().__init__()
        if not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(
                f'num_frames must be a positive int, got {num_frames!r}.')
        if mode not in self.MODES:
            raise ValueError(
                f'Unknown {type(self).__name__} mode {mode!r}; expected one '
                f'of {sorted(self.MODES)}.')
        if max_clips is not None and (not isinstance(max_clips, int)
                                      or max_clips < 1):
            raise ValueError(f'max_clips must be None or a positive int, got '
                             f'{max_clips!r}.')
        self.num_frames = num_frames
        self.mode = mode
        self.max_clips = max_clips

    @cache_randomness
    def _random_unit(self) -> np.ndarray:
        """``T`` uniform numbers in ``[0, 1)``, shape ``(T,)``."""
        return np.random.random_sample(self.num_frames)

    @cache_randomness
    def _random_start(self) -> float:
        """One uniform number in ``[0, 1)`` (a window start)."""
        return float(np.random.random_sample())

    @staticmethod
    def _scale(unit: np.ndarray, size) -> np.ndarray:
        """Map uniform ``[0, 1)`` numbers to integers in ``[0, size)``."""
        size = np.asarray(size, dtype=np.int64)
        out = np.floor(unit * size).astype(np.int64)
        # guard against floating point rounding up to ``size``
        return np.minimum(out, size - 1)

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
                f"mode='{self.mode}', max_clips={self.max_clips})")


@TRANSFORMS.register_module()
class IntervalSampleFrames(BaseFrameSampling):
    """The frame sampling of the authors' public code: strided frames.

    The stride ``s`` is the largest of ``max_interval, max_interval / 2,
    ..., 1`` with ``n >= T * s``:

    - ``mode='random'`` (train): a window of ``T * s`` consecutive frames
      starts at a uniformly random frame and one random frame is drawn from
      each of its ``T`` blocks of ``s`` frames. A tracklet shorter than
      ``T`` gives ``T`` random frames drawn with replacement, sorted.
    - ``mode='begin'`` (test): frames ``0, s, 2s, ..., (T - 1) s``; a
      tracklet shorter than ``T`` gives its frames repeated cyclically,
      ``0, 1, ..., n-1, 0, 1, ...`` (the authors' padding: not in temporal
      order).
    - ``mode='dense'`` (test): with ``k = floor(n / T)``, clip ``j``
      (``j = 0..k-1``) takes frames ``j, j + k, ..., j + (T - 1) k``, so
      every clip spans the tracklet; at most ``max_clips`` clips, evenly
      spread; a tracklet shorter than ``T`` gives the single ``'begin'``
      clip.

    Args:
        num_frames (int): Frames per clip ``T``. Defaults to 8.
        mode (str): ``'random'``, ``'begin'`` or ``'dense'``. Defaults to
            ``'random'``.
        max_clips (int, optional): The most clips of ``'dense'``. Defaults
            to None (every clip).
        max_interval (int): The initial stride ``s``. Defaults to 8.
    """

    MODES: Dict[str, str] = {
        'random': '_sample_random',
        'begin': '_sample_begin',
        'dense': '_sample_dense',
    }

    def __init__(self,
                 num_frames: int = 8,
                 mode: str = 'random',
                 max_clips: Optional[int] = None,
                 max_interval: int = 8) -> None:
        super().__init__(num_frames, mode, max_clips)
        if not isinstance(max_interval, int) or max_interval < 1:
            raise ValueError(f'max_interval must be a positive int, got '
                             f'{max_interval!r}.')
        self.max_interval = max_interval

    def _interval(self, num_total: int) -> int:
        """The largest stride whose window of ``T * s`` frames fits."""
        stride = self.max_interval
        while stride > 1 and num_total < self.num_frames * stride:
            stride //= 2
        return stride

    def _sample_random(self, num_total: int) -> Tuple[np.ndarray, int]:
        """One random frame per block of a random window; ``(T,)``."""
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

    def _sample_begin(self, num_total: int) -> Tuple[np.ndarray, int]:
        """Frames ``0, s, ..., (T - 1) s``; ``(T,)``."""
        k = np.arange(self.num_frames, dtype=np.int64)
        if num_total < self.num_frames:
            return k % num_total, 1
        return k * self._interval(num_total), 1

    def _sample_dense(self, num_total: int) -> Tuple[np.ndarray, int]:
        """Strided clips spanning the tracklet; ``(K * T,)``."""
        step = num_total // self.num_frames
        if step == 0:
            return self._sample_begin(num_total)
        k = np.arange(self.num_frames, dtype=np.int64) * step
        clips = [j + k for j in _select_clips(step, self.max_clips).tolist()]
        return np.concatenate(clips), len(clips)

    def __repr__(self) -> str:
        return (f'{super().__repr__()[:-1]}, '
                f'max_interval={self.max_interval})')


@TRANSFORMS.register_module()
class EvenlySampleFrames(BaseFrameSampling):
    """``T`` frames evenly spaced over the whole tracklet (test).

    Frame ``floor(k * (n - 1) / (T - 1))`` for ``k = 0..T-1``, first and
    last frame included (the middle frame ``floor((n - 1) / 2)`` if
    ``T = 1``); frames repeat in order when ``n < T``. Deterministic.

    Args:
        num_frames (int): Frames ``T``. Defaults to 8.
    """

    MODES: Dict[str, str] = {'evenly': '_sample_evenly'}

    def __init__(self, num_frames: int = 8) -> None:
        super().__init__(num_frames, mode='evenly')

    def _sample_evenly(self, num_total: int) -> Tuple[np.ndarray, int]:
        """Evenly spaced frames, ends included; ``(T,)``."""
        if self.num_frames == 1:
            return np.array([(num_total - 1) // 2], dtype=np.int64), 1
        k = np.arange(self.num_frames, dtype=np.int64)
        return (k * (num_total - 1)) // (self.num_frames - 1), 1

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_frames={self.num_frames})'


#: Old ``RestrictedRandomSampling`` modes that are not RRS -> their transform.
_MOVED_MODES = {
    'evenly': (EvenlySampleFrames, None),
    'random_interval': (IntervalSampleFrames, 'random'),
    'begin_interval': (IntervalSampleFrames, 'begin'),
    'dense_strided': (IntervalSampleFrames, 'dense'),
}


@TRANSFORMS.register_module()
class RestrictedRandomSampling(BaseFrameSampling):
    """Restricted Random Sampling (RRS) of ``T`` frames from a tracklet.

    The paper's sampling (Sec. IV-B, its ref. [50]: Li et al., CVPR 2018):
    the tracklet's frames, in temporal order, are split into ``T`` equal
    chunks (see :func:`rrs_chunk_bounds`, including the in-order padding of
    tracklets shorter than ``T``):

    - ``mode='random'`` (train): one frame drawn uniformly from each chunk.
    - ``mode='begin'`` (test): the first frame of each chunk.
    - ``mode='dense'`` (test): every frame, as ``ceil(n / T)`` consecutive
      clips ``[0, T), [T, 2T), ...``; the last clip, of ``r <= T`` frames
      starting at frame ``b``, is padded to ``T`` in order (frame
      ``b + floor(k * r / T)``, like a short tracklet). With ``max_clips``
      and more clips, ``max_clips`` clips evenly spread are kept (clip
      ``floor(i * K / max_clips)``).

    Every clip is in temporal (non-decreasing) order.

    The modes ``'evenly'``, ``'random_interval'``, ``'begin_interval'`` and
    ``'dense_strided'`` are not RRS: they are deprecated here and run
    :class:`EvenlySampleFrames` and :class:`IntervalSampleFrames`
    (``mode='random'`` / ``'begin'`` / ``'dense'``), which give the same
    frames for the same seed.

    Args:
        num_frames (int): Frames per clip ``T``. Defaults to 8.
        mode (str): ``'random'``, ``'begin'`` or ``'dense'``. Defaults to
            ``'random'``.
        max_clips (int, optional): The most clips of ``'dense'`` (the model
            further runs at most ``test_cfg.max_clips_per_forward`` clips
            per forward). Defaults to None (every clip).
        max_interval (int): Only for the deprecated interval modes (see
            :class:`IntervalSampleFrames`). Defaults to 8.
    """

    MODES: Dict[str, str] = {
        'random': '_sample_random',
        'begin': '_sample_begin',
        'dense': '_sample_dense',
    }

    def __init__(self,
                 num_frames: int = 8,
                 mode: str = 'random',
                 max_clips: Optional[int] = None,
                 max_interval: int = 8) -> None:
        self._moved: Optional[BaseFrameSampling] = None
        if mode in _MOVED_MODES:
            cls, new_mode = _MOVED_MODES[mode]
            if cls is EvenlySampleFrames:
                self._moved = cls(num_frames)
                new = f"dict(type='{cls.__name__}', num_frames={num_frames})"
            else:
                self._moved = cls(num_frames, new_mode, max_clips,
                                  max_interval)
                new = (f"dict(type='{cls.__name__}', mode='{new_mode}', "
                       '...)')
            warnings.warn(
                f"RestrictedRandomSampling(mode='{mode}') is deprecated: it "
                f'is not restricted random sampling. Use {new} instead '
                '(same frames for the same seed).', FutureWarning)
            super().__init__(num_frames, 'random', max_clips)
            self.mode = mode
        else:
            super().__init__(num_frames, mode, max_clips)
            if not isinstance(max_interval, int) or max_interval < 1:
                raise ValueError(f'max_interval must be a positive int, got '
                                 f'{max_interval!r}.')
        self.max_interval = max_interval

    def _sample_random(self, num_total: int) -> Tuple[np.ndarray, int]:
        """One uniformly random frame per chunk; ``(T,)``."""
        starts, ends = rrs_chunk_bounds(num_total, self.num_frames)
        return starts + self._scale(self._random_unit(), ends - starts), 1

    def _sample_begin(self, num_total: int) -> Tuple[np.ndarray, int]:
        """The first frame of each chunk; ``(T,)``."""
        starts, _ = rrs_chunk_bounds(num_total, self.num_frames)
        return starts.copy(), 1

    def _sample_dense(self, num_total: int) -> Tuple[np.ndarray, int]:
        """Consecutive clips of ``T``, the last one padded; ``(K * T,)``."""
        t = self.num_frames
        num_clips = -(-num_total // t)
        k = np.arange(t, dtype=np.int64)
        clips = []
        for c in _select_clips(num_clips, self.max_clips).tolist():
            begin = c * t
            length = min(t, num_total - begin)
            clips.append(begin + (k * length) // t)
        return np.concatenate(clips), len(clips)

    def transform(self, results: dict) -> dict:
        """Sample the frame indices of one tracklet (see the class doc)."""
        if self._moved is not None:
            return self._moved.transform(results)
        return super().transform(results)

    def __repr__(self) -> str:
        return (f'{super().__repr__()[:-1]}, '
                f'max_interval={self.max_interval})')


#: Registered names of the frame-sampling transforms (configs are searched
#: for them, e.g. to check ``num_frames`` against the model).
FRAME_SAMPLING_TYPES = ('RestrictedRandomSampling', 'IntervalSampleFrames',
                        'EvenlySampleFrames')

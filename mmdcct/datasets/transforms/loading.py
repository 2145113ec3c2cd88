"""Reading the sampled frames of a tracklet.

Config-level contract::

    dict(type='LoadTrackletFrames',
         backend_args=None,        # mmengine.fileio backend (local if None)
         channel_order='rgb',      # frames are RGB for the whole pipeline
         imdecode_backend='cv2',
         skip_corrupt=False)       # True: replace unreadable frames

Required keys: ``img_paths`` (list[str]); optional ``frame_inds``
(``np.int64`` array, written by :class:`RestrictedRandomSampling`; when absent
every frame of the tracklet is loaded in order).

Added keys:

- ``imgs`` (list[np.ndarray]): ``len(frame_inds)`` frames, each ``H x W x 3``
  ``uint8`` in ``channel_order``. Repeated indices yield independent copies
  (never aliases), so in-place augmentations stay safe.
- ``img_shape`` (tuple[int, int]): ``(H, W)`` of the first frame.
- ``ori_shape`` (tuple[int, int]): same as ``img_shape`` at load time.

- ``replaced_frames`` (dict[str, str]): only with ``skip_corrupt=True``:
  ``{unreadable path: path of the frame used instead}`` (empty if none).

A file that cannot be read or decoded raises :class:`OSError` whose message
names the file (no retry: the authors' loader retries forever). With
``skip_corrupt=True`` a warning naming the file is logged instead and the
nearest readable frame of the same tracklet is used (an error is raised only
if no frame of the tracklet is readable).
"""
import logging
from typing import Dict, List, Optional, Set

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log

from mmdcct.registry import TRANSFORMS

__all__ = ['LoadTrackletFrames']


@TRANSFORMS.register_module()
class LoadTrackletFrames(BaseTransform):
    """Load the frames ``img_paths[frame_inds]`` of a tracklet.

    Each distinct path is read and decoded once per call; duplicated indices
    (padding of short tracklets) get copies of the decoded array.

    Required keys: ``img_paths``; optional ``frame_inds``.

    Added keys: ``imgs`` (list of ``H x W x 3`` ``uint8`` arrays, one per
    entry of ``frame_inds``), ``img_shape`` and ``ori_shape`` (``(H, W)``).

    Args:
        backend_args (dict, optional): Arguments that instantiate the
            ``mmengine.fileio`` backend. Defaults to None (local disk).
        channel_order (str): ``'rgb'`` or ``'bgr'``. Defaults to 'rgb'.
        imdecode_backend (str): Decoder for ``mmcv.imfrombytes``
            (``'cv2'``, ``'pillow'``, ``'turbojpeg'``, ...). Defaults to
            'cv2'.
        to_float32 (bool): Convert the frames to ``float32``. Defaults to
            False (keep ``uint8``).
        skip_corrupt (bool): If True, a frame that cannot be read or decoded
            is replaced by the nearest readable frame of the same tracklet
            (by index distance in ``img_paths``; the earlier frame on ties)
            and a warning naming the file is logged; the replacements are
            recorded in ``replaced_frames``. An :class:`OSError` is still
            raised when no frame of the tracklet is readable. Defaults to
            False (raise an :class:`OSError` naming the file).
    """

    def __init__(self,
                 backend_args: Optional[dict] = None,
                 channel_order: str = 'rgb',
                 imdecode_backend: str = 'cv2',
                 to_float32: bool = False,
                 skip_corrupt: bool = False) -> None:
        super().__init__()
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError(
                f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        self.backend_args = None if backend_args is None else \
            backend_args.copy()
        self.channel_order = channel_order
        self.imdecode_backend = imdecode_backend
        self.to_float32 = to_float32
        self.skip_corrupt = bool(skip_corrupt)

    def _read(self, path: str) -> np.ndarray:
        """Read and decode one frame, raising an error naming the file.

        Args:
            path (str): Path (or URI) of the frame.

        Returns:
            np.ndarray: ``H x W x 3`` image.
        """
        try:
            img_bytes = fileio.get(path, backend_args=self.backend_args)
        except Exception as e:
            raise OSError(f'Failed to read frame file {path!r}: '
                          f'{type(e).__name__}: {e}') from e
        try:
            img = mmcv.imfrombytes(
                img_bytes,
                flag='color',
                channel_order=self.channel_order,
                backend=self.imdecode_backend)
        except Exception as e:
            raise OSError(f'Failed to decode frame file {path!r} '
                          f'(corrupt or not an image): '
                          f'{type(e).__name__}: {e}') from e
        if img is None or img.size == 0:
            raise OSError(f'Failed to decode frame file {path!r} '
                          '(corrupt or not an image).')
        if self.to_float32:
            img = img.astype(np.float32)
        return img

    def transform(self, results: dict) -> dict:
        """Load the sampled frames.

        Args:
            results (dict): Must contain ``img_paths``; may contain
                ``frame_inds``.

        Returns:
            dict: ``results`` with ``imgs``, ``img_shape`` and ``ori_shape``.
        """
        img_paths = results['img_paths']
        frame_inds = results.get('frame_inds')
        if frame_inds is None:
            frame_inds = np.arange(len(img_paths), dtype=np.int64)
        frame_inds = np.asarray(frame_inds, dtype=np.int64).reshape(-1)
        if frame_inds.size == 0:
            raise ValueError('frame_inds is empty; nothing to load.')
        if frame_inds.min() < 0 or frame_inds.max() >= len(img_paths):
            raise IndexError(
                f'frame_inds {frame_inds.tolist()} out of range for a '
                f'tracklet of {len(img_paths)} frames.')

        cache: Dict[int, np.ndarray] = {}
        failed: Set[int] = set()
        replaced: Dict[str, str] = {}
        used: Set[int] = set()
        imgs: List[np.ndarray] = []
        for ind in frame_inds.tolist():
            if ind not in cache and ind not in failed:
                self._try_read(ind, img_paths, cache, failed)
            if ind in failed:
                sub = self._nearest_readable(ind, img_paths, cache, failed)
                replaced[img_paths[ind]] = img_paths[sub]
                ind = sub
            # the first use of a frame gets the decoded array, later ones
            # independent copies (never aliases)
            imgs.append(cache[ind].copy() if ind in used else cache[ind])
            used.add(ind)

        results['imgs'] = imgs
        results['img_shape'] = imgs[0].shape[:2]
        results['ori_shape'] = imgs[0].shape[:2]
        if self.skip_corrupt:
            results['replaced_frames'] = replaced
        return results

    def _try_read(self, ind: int, img_paths: List[str],
                  cache: Dict[int, np.ndarray], failed: Set[int]) -> bool:
        """Read frame ``ind`` into ``cache``, or record it in ``failed``.

        Without ``skip_corrupt`` a read error propagates; with it, a warning
        naming the file is logged.

        Returns:
            bool: Whether the frame was read.
        """
        try:
            cache[ind] = self._read(img_paths[ind])
            return True
        except OSError as e:
            if not self.skip_corrupt:
                raise
            failed.add(ind)
            print_log(
                f'LoadTrackletFrames(skip_corrupt=True): skipping the '
                f'unreadable frame {img_paths[ind]!r} ({e}); the nearest '
                'readable frame of the tracklet is used instead.',
                logger='current',
                level=logging.WARNING)
            return False

    def _nearest_readable(self, ind: int, img_paths: List[str],
                          cache: Dict[int,
                                      np.ndarray], failed: Set[int]) -> int:
        """Return the index of the readable frame nearest to ``ind``.

        Frames are tried at distance 1, 2, ... (the earlier one first).

        Raises:
            OSError: If no frame of the tracklet is readable.
        """
        n = len(img_paths)
        for dist in range(1, n):
            for cand in (ind - dist, ind + dist):
                if not 0 <= cand < n or cand in failed:
                    continue
                if cand in cache or self._try_read(cand, img_paths, cache,
                                                   failed):
                    return cand
        raise OSError(
            f'No readable frame in the tracklet of {n} frames whose frame '
            f'{img_paths[ind]!r} is unreadable (skip_corrupt=True needs at '
            f'least one readable frame; first frame: {img_paths[0]!r}).')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'backend_args={self.backend_args}, '
                f"channel_order='{self.channel_order}', "
                f"imdecode_backend='{self.imdecode_backend}', "
                f'to_float32={self.to_float32}, '
                f'skip_corrupt={self.skip_corrupt})')

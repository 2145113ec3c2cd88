"""Reading the sampled frames of a tracklet.

Config-level contract::

    dict(type='LoadTrackletFrames',
         backend_args=None,        # mmengine.fileio backend (local if None)
         channel_order='rgb',      # frames are RGB for the whole pipeline
         imdecode_backend='cv2')

Required keys: ``img_paths`` (list[str]); optional ``frame_inds``
(``np.int64`` array, written by :class:`RestrictedRandomSampling`; when absent
every frame of the tracklet is loaded in order).

Added keys:

- ``imgs`` (list[np.ndarray]): ``len(frame_inds)`` frames, each ``H x W x 3``
  ``uint8`` in ``channel_order``. Repeated indices yield independent copies
  (never aliases), so in-place augmentations stay safe.
- ``img_shape`` (tuple[int, int]): ``(H, W)`` of the first frame.
- ``ori_shape`` (tuple[int, int]): same as ``img_shape`` at load time.

A file that cannot be read or decoded raises :class:`OSError` whose message
names the file (no retry: the authors' loader retries forever).
"""
from typing import Dict, List, Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

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
    """

    def __init__(self,
                 backend_args: Optional[dict] = None,
                 channel_order: str = 'rgb',
                 imdecode_backend: str = 'cv2',
                 to_float32: bool = False) -> None:
        super().__init__()
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError(
                f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        self.backend_args = None if backend_args is None else \
            backend_args.copy()
        self.channel_order = channel_order
        self.imdecode_backend = imdecode_backend
        self.to_float32 = to_float32

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
        imgs: List[np.ndarray] = []
        for ind in frame_inds.tolist():
            if ind in cache:
                imgs.append(cache[ind].copy())
            else:
                img = self._read(img_paths[ind])
                cache[ind] = img
                imgs.append(img)

        results['imgs'] = imgs
        results['img_shape'] = imgs[0].shape[:2]
        results['ori_shape'] = imgs[0].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'backend_args={self.backend_args}, '
                f"channel_order='{self.channel_order}', "
                f"imdecode_backend='{self.imdecode_backend}', "
                f'to_float32={self.to_float32})')

"""Packing a tracklet into model inputs and a data sample.

Config-level contract::

    dict(type='PackVideoReIDInputs')   # default meta_keys below

Required keys: ``imgs`` (list of ``T`` frames, ``H x W x 3``, RGB; or an
array of shape ``(T, H, W, 3)``).

Output (the dict MMEngine collates):

- ``inputs`` (torch.Tensor): ``(num_clips * T, 3, H, W)``, same dtype as the
  frames (``torch.uint8`` for the standard pipeline); normalisation is done
  by the data preprocessor.
- ``data_samples`` (:class:`VideoReIDDataSample`): ``gt_label`` = ``pid``
  (shape ``(1,)``, long) and every key of ``meta_keys`` found in the results
  as metainfo (missing keys are skipped).
"""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmdcct.registry import TRANSFORMS
from mmdcct.structures.video_reid_data_sample import VideoReIDDataSample

__all__ = ['PackVideoReIDInputs']


@TRANSFORMS.register_module()
class PackVideoReIDInputs(BaseTransform):
    """Pack the frames of a tracklet and its annotation.

    Required keys: ``imgs``; ``pid`` (the training label) when present.

    Output keys: ``inputs`` (tensor ``(T, 3, H, W)``, frame dtype kept, i.e.
    ``torch.uint8``) and ``data_samples`` (``VideoReIDDataSample`` with
    ``gt_label`` and metainfo from ``meta_keys``).

    Args:
        meta_keys (Sequence[str]): Result keys copied to the data sample's
            metainfo when present. Defaults to ``('sample_idx', 'pid',
            'raw_pid', 'camid', 'img_paths', 'is_query', 'is_gallery',
            'num_clips', 'tracklet_id')``.
    """

    def __init__(
        self,
        meta_keys: Sequence[str] = ('sample_idx', 'pid', 'raw_pid', 'camid',
                                    'img_paths', 'is_query', 'is_gallery',
                                    'num_clips', 'tracklet_id')
    ) -> None:
        super().__init__()
        self.meta_keys = tuple(meta_keys)

    @staticmethod
    def _to_tensor(imgs) -> torch.Tensor:
        """Stack ``T`` frames ``H x W x C`` into a ``(T, C, H, W)`` tensor."""
        if isinstance(imgs, torch.Tensor):
            arr = imgs.numpy()
        elif isinstance(imgs, np.ndarray):
            arr = imgs
        else:
            if len(imgs) == 0:
                raise ValueError('No frame to pack: "imgs" is empty.')
            shapes = {tuple(np.shape(im)) for im in imgs}
            if len(shapes) != 1:
                raise ValueError(
                    f'All frames of a tracklet must share one shape to be '
                    f'packed, got {sorted(shapes)}.')
            shape = next(iter(shapes))
            if len(shape) in (2, 3) and all(
                    isinstance(im, np.ndarray) for im in imgs):
                return PackVideoReIDInputs._stack_chw(imgs, shape)
            arr = np.stack(imgs, axis=0)
        if arr.ndim == 3:  # grayscale frames (T, H, W)
            arr = arr[..., None]
        if arr.ndim != 4:
            raise ValueError(f'Expected frames of shape (T, H, W, C), got '
                             f'{arr.shape}.')
        arr = np.ascontiguousarray(arr.transpose(0, 3, 1, 2))
        return torch.from_numpy(arr)

    @staticmethod
    def _stack_chw(imgs, shape) -> torch.Tensor:
        """Copy ``T`` frames ``H x W (x C)`` straight into ``(T, C, H, W)``.

        Same result as ``np.stack`` + transpose + ``ascontiguousarray``, in
        one copy per frame; much faster for the strided views (crops, flips)
        the augmentations leave behind.
        """
        h, w = shape[:2]
        c = shape[2] if len(shape) == 3 else 1
        dtype = np.result_type(*{im.dtype for im in imgs})
        out = np.empty((len(imgs), c, h, w), dtype=dtype)
        for i, im in enumerate(imgs):
            if im.ndim == 2:
                out[i, 0] = im
            else:
                out[i] = im.transpose(2, 0, 1)
        return torch.from_numpy(out)

    def transform(self, results: dict) -> dict:
        """Pack the results.

        Args:
            results (dict): The pipeline results.

        Returns:
            dict: ``{'inputs': Tensor(T, 3, H, W), 'data_samples':
            VideoReIDDataSample}``.
        """
        packed = dict()
        packed['inputs'] = self._to_tensor(results['imgs'])

        data_sample = VideoReIDDataSample()
        if 'pid' in results:
            data_sample.set_gt_label(int(results['pid']))
        metainfo = {k: results[k] for k in self.meta_keys if k in results}
        data_sample.set_metainfo(metainfo)
        packed['data_samples'] = data_sample
        return packed

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'

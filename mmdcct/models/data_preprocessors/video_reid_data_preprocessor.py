"""Batch tracklets, move them to the device and normalise them."""
from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import BaseDataPreprocessor
from torch import nn

from mmdcct.registry import MODELS


@MODELS.register_module()
class VideoReIDDataPreprocessor(BaseDataPreprocessor):
    """Data preprocessor for video Re-ID.

    Stacks the packed tracklets ``(T, 3, H, W)`` (uint8) into a batch
    ``(B, T, 3, H, W)``, moves it to the model's device, converts it to float
    and normalises it with ``mean`` / ``std`` broadcast over frames.

    Optional batch augments (e.g. ``TrackletBatchFlip``,
    ``TrackletBatchRandomErasing``) run in training only, on the stacked
    batch after the device move and the float conversion, in the 0–255
    pixel range and the pipeline's channel order (i.e. before ``to_rgb`` and
    normalisation), in the listed order. They replace the CPU
    ``mmcv.RandomFlip`` / ``mmpretrain.RandomErasing`` of the train pipeline
    (drop those from the pipeline when using them), e.g.::

        data_preprocessor=dict(
            type='VideoReIDDataPreprocessor',
            batch_augments=[
                dict(type='TrackletBatchFlip', prob=0.5),
                dict(type='TrackletBatchRandomErasing', erase_prob=0.5,
                     fill_color=(124, 116, 104)),
            ])

    Args:
        mean (Sequence[float]): Per-channel mean in the 0–255 range.
            Defaults to the ImageNet mean.
        std (Sequence[float]): Per-channel std in the 0–255 range.
            Defaults to the ImageNet std.
        to_rgb (bool): Reverse the channel order (BGR → RGB). The packing
            transform already emits RGB, so this is False by default.
        non_blocking (bool): Non-blocking host→device copy.
        batch_augments (list[dict | nn.Module], optional): Training-time
            batch augments, each a config built with ``MODELS`` (or a
            module) mapping a float ``(B, T, 3, H, W)`` batch to one of the
            same shape. Defaults to None (no batch augmentation).
    """

    def __init__(
            self,
            mean: Sequence[float] = (123.675, 116.28, 103.53),
            std: Sequence[float] = (58.395, 57.12, 57.375),
            to_rgb: bool = False,
            non_blocking: bool = False,
            batch_augments: Optional[List[Union[dict,
                                                nn.Module]]] = None) -> None:
        super().__init__(non_blocking=non_blocking)
        if len(mean) != 3 or len(std) != 3:
            raise ValueError('VideoReIDDataPreprocessor: mean and std need 3 '
                             f'values each, got mean={mean}, std={std}')
        self.to_rgb = to_rgb
        self.batch_augments: Optional[nn.ModuleList] = None
        if batch_augments is not None:
            if not isinstance(batch_augments, (list, tuple)) or not all(
                    isinstance(a, (dict, nn.Module)) for a in batch_augments):
                raise TypeError(
                    'VideoReIDDataPreprocessor: batch_augments must be a '
                    'list of config dicts or nn.Modules, got '
                    f'{batch_augments!r}')
            self.batch_augments = nn.ModuleList(
                MODELS.build(a) if isinstance(a, dict) else a
                for a in batch_augments)
        self.register_buffer('mean', torch.tensor(mean).view(1, 1, 3, 1, 1),
                             False)
        self.register_buffer('std', torch.tensor(std).view(1, 1, 3, 1, 1),
                             False)

    def _normalize(self,
                   inputs: torch.Tensor,
                   augment: bool = False) -> torch.Tensor:
        """Move ``(..., 3, H, W)`` uint8 frames to the device, normalise.

        Args:
            inputs (torch.Tensor): Frames of shape ``(..., 3, H, W)``;
                ``(B, T, 3, H, W)`` when ``augment`` is True.
            augment (bool): Run the batch augments (after the float
                conversion, before ``to_rgb`` and normalisation).

        Returns:
            torch.Tensor: Normalised float frames, same shape, on the device.
        """
        inputs = inputs.to(self.device, non_blocking=self._non_blocking)
        inputs = inputs.float()
        if augment and self.batch_augments is not None:
            for batch_augment in self.batch_augments:
                inputs = batch_augment(inputs)
        if self.to_rgb:
            inputs = inputs.flip(-3)
        mean, std = self.mean.view(3, 1, 1), self.std.view(3, 1, 1)
        return (inputs - mean) / std

    def forward(self, data: dict, training: bool = False) -> dict:
        """Preprocess a batch from the dataloader.

        Args:
            data (dict): ``inputs`` (list of ``(T_i, 3, H, W)`` tensors or a
                ``(B, T, 3, H, W)`` tensor) and ``data_samples``.
            training (bool): Whether this is a training step (the batch
                augments run only then).

        Returns:
            dict: ``inputs`` float tensor ``(B, T, 3, H, W)`` on the device
            and ``data_samples`` on the device. In testing, tracklets whose
            frame counts differ (dense sampling gives each tracklet its own
            number of clips) stay a list of ``(T_i, 3, H, W)`` tensors.
        """
        inputs: Union[torch.Tensor, list] = data['inputs']
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(x.shape) for x in inputs}
            frame_shapes = {shape[1:] for shape in shapes}
            if len(frame_shapes) != 1 or len(next(iter(frame_shapes))) != 3:
                raise ValueError(
                    'VideoReIDDataPreprocessor: tracklets in a batch must '
                    'have frames of one (3, H, W) shape, got '
                    f'{sorted(shapes)}')
            if len(shapes) != 1:
                if training:
                    raise ValueError(
                        'VideoReIDDataPreprocessor: training tracklets in a '
                        'batch must have the same number of frames, got '
                        f'{sorted(s[0] for s in shapes)}')
                inputs = [self._normalize(x) for x in inputs]
            else:
                inputs = torch.stack(list(inputs))
        if isinstance(inputs, torch.Tensor):
            if inputs.dim() != 5 or inputs.shape[2] != 3:
                raise ValueError(
                    'VideoReIDDataPreprocessor expects inputs of shape '
                    f'(B, T, 3, H, W), got {tuple(inputs.shape)}')
            inputs = self._normalize(inputs, augment=training)
        data_samples: Optional[list] = data.get('data_samples')
        if data_samples is not None:
            data_samples = self.cast_data(data_samples)
        return dict(inputs=inputs, data_samples=data_samples)

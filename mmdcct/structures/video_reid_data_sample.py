"""Data structure carrying the annotation and prediction of one tracklet."""
from numbers import Number
from typing import Sequence, Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement

LabelType = Union[torch.Tensor, np.ndarray, Sequence, Number]


def format_label(value: LabelType) -> torch.Tensor:
    """Convert an identity label of any common type into a 1-D long tensor.

    Args:
        value (torch.Tensor | np.ndarray | Sequence | int): One integer
            identity.

    Returns:
        torch.Tensor: A ``torch.long`` tensor of shape ``(1,)``.

    Raises:
        TypeError: If ``value`` is not an integer type (a float label would
            be truncated to another identity).
        ValueError: If ``value`` holds more or less than one identity.
    """
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        value = torch.tensor(value)
    elif isinstance(value, Number):
        value = torch.tensor([value])
    elif not isinstance(value, torch.Tensor):
        raise TypeError(f'Type {type(value)} is not an available label type.')
    if value.is_floating_point() or value.is_complex():
        raise TypeError(
            f'An identity label must be an integer, got {value.dtype} '
            f'{value.tolist()}; pass int(label) or a torch.long tensor.')
    if value.numel() != 1:
        raise ValueError(
            'A tracklet has one identity label, got shape '
            f'{tuple(value.shape)}; set one label per VideoReIDDataSample.')
    return value.to(torch.long).reshape(1)


class VideoReIDDataSample(BaseDataElement):
    """Annotation and prediction of one tracklet (video Re-ID sample).

    Meta fields (set by ``PackVideoReIDInputs``) usually include ``pid``
    (original identity id, int), ``camid`` (0-based camera index),
    ``img_paths``, ``sample_idx``, ``is_query`` and ``is_gallery``.

    Data fields:

    - ``gt_label`` (torch.Tensor): shape ``(1,)``, the (relabelled) identity
      used as the training target.
    - ``pred_feature`` (torch.Tensor): shape ``(C,)``, the tracklet feature
      written by the model in ``predict`` mode.
    """

    def set_gt_label(self, value: LabelType) -> 'VideoReIDDataSample':
        """Set the identity label of the tracklet.

        Args:
            value (torch.Tensor | np.ndarray | Sequence | int): The label.

        Returns:
            VideoReIDDataSample: self.
        """
        self.set_field(format_label(value), 'gt_label', dtype=torch.Tensor)
        return self

    def set_pred_feature(self, value: torch.Tensor) -> 'VideoReIDDataSample':
        """Set the predicted tracklet feature.

        Args:
            value (torch.Tensor): The feature, shape ``(C,)``.

        Returns:
            VideoReIDDataSample: self.
        """
        if not isinstance(value, torch.Tensor):
            value = torch.as_tensor(value)
        self.set_field(value, 'pred_feature', dtype=torch.Tensor)
        return self

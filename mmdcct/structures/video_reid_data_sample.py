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
        value (torch.Tensor | np.ndarray | Sequence | int): The label.

    Returns:
        torch.Tensor: A 1-D ``torch.long`` tensor.
    """
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        value = torch.tensor(value)
    elif isinstance(value, Number):
        value = torch.tensor([value])
    elif not isinstance(value, torch.Tensor):
        raise TypeError(f'Type {type(value)} is not an available label type.')
    value = value.to(torch.long)
    if value.ndim == 0:
        value = value.unsqueeze(0)
    return value


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

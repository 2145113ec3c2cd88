"""Test-time augmentation of video Re-ID features."""
from typing import List

import torch
from mmengine.model import BaseTTAModel
from mmengine.structures import BaseDataElement

from mmdcct.registry import MODELS

__all__ = ['VideoReIDTTAModel']


@MODELS.register_module()
class VideoReIDTTAModel(BaseTTAModel):
    """Average the tracklet features of several augmented views.

    The test pipeline produces every view (e.g. the frames and their mirror
    images, with mmcv's ``TestTimeAug``); the wrapped model embeds each view
    and ``pred_feature`` becomes their mean. The raw features are averaged,
    as fast-reid's and torchreid's flip test does; the metric normalises
    them afterwards for the cosine distance.

    ``tools/test.py --tta`` wraps ``cfg.model`` in ``cfg.tta_model`` and
    swaps in ``cfg.tta_pipeline``, by default the test pipeline with the
    packing step replaced by::

        dict(type='TestTimeAug', transforms=[
            [dict(type='TrackletBroadcaster',
                  transforms=[dict(type='mmcv.RandomFlip', prob=0.)]),
             dict(type='TrackletBroadcaster',
                  transforms=[dict(type='mmcv.RandomFlip', prob=1.,
                                   direction='horizontal')])],
            [dict(type='PackVideoReIDInputs')]])

    Args:
        module (dict | nn.Module): The video Re-ID model.
        data_preprocessor (dict | nn.Module, optional): Overrides the
            model's data preprocessor. Defaults to None.
    """

    def merge_preds(
        self, data_samples_list: List[List[BaseDataElement]]
    ) -> List[BaseDataElement]:
        """Average ``pred_feature`` over the views of every tracklet.

        Args:
            data_samples_list (list[list[BaseDataElement]]): For every
                tracklet of the batch, its predictions for all views, each
                with ``pred_feature`` of shape ``(C,)``.

        Returns:
            list[BaseDataElement]: One prediction per tracklet (the first
            view's data sample) with the mean ``pred_feature`` ``(C,)``.
        """
        merged = []
        for views in data_samples_list:
            widths = {tuple(v.pred_feature.shape) for v in views}
            if len(widths) != 1:
                raise ValueError(
                    'VideoReIDTTAModel: the views of a tracklet have '
                    f'features of different shapes {sorted(widths)}; every '
                    'view must be embedded with the same feature mode.')
            sample = views[0]
            sample.set_field(
                torch.stack([v.pred_feature for v in views]).mean(dim=0),
                'pred_feature')
            merged.append(sample)
        return merged

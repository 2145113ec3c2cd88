"""The "Coupled" baseline head: BN-neck + classifier per branch."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from .bnneck import BNNeck


def gather_labels(data_samples: Sequence[VideoReIDDataSample]) -> torch.Tensor:
    """Stack the identity labels of a batch.

    Args:
        data_samples (Sequence[VideoReIDDataSample]): Samples with
            ``gt_label``.

    Returns:
        torch.Tensor: Labels, shape ``(B,)``.
    """
    return torch.cat([ds.gt_label for ds in data_samples])


@MODELS.register_module()
class VideoReIDHead(BaseModule):
    """Video-level BN-neck head of the Coupled baseline.

    Each branch's frame-level global features are averaged over time (TAP)
    and supervised with their own BN-neck and classifier (cross-entropy on
    the logits, batch-hard triplet on the BN features); the loss of each
    kind is averaged over the branches.

    Args:
        num_classes (int): Number of training identities.
        in_channels (Sequence[int]): Width of each branch's global feature.
            Defaults to ``(2048, 768)`` (ResNet-50, ViT-B).
        loss_ce (dict): Classification loss config.
        loss_triplet (dict, optional): Metric loss config; None disables it.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: Sequence[int] = (2048, 768),
                 loss_ce: dict = dict(type='mmpretrain.CrossEntropyLoss'),
                 loss_triplet: Optional[dict] = dict(
                     type='TripletLoss', margin=0.3, distance='cosine'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.in_channels = tuple(in_channels)
        self.necks = nn.ModuleList(
            BNNeck(c, num_classes) for c in self.in_channels)
        self.loss_ce = MODELS.build(loss_ce)
        self.loss_triplet = (
            MODELS.build(loss_triplet) if loss_triplet is not None else None)

    def _video_features(self, feats: Dict) -> List[torch.Tensor]:
        frame_feats = feats['frame']
        if len(frame_feats) != len(self.necks):
            raise ValueError(
                f'VideoReIDHead was built for {len(self.necks)} branches '
                f'(in_channels={self.in_channels}), got {len(frame_feats)}')
        return [f.mean(dim=1) for f in frame_feats]

    def loss(self, feats: Dict,
             data_samples: Sequence[VideoReIDDataSample]) -> dict:
        """Compute the video-level losses.

        Args:
            feats (dict): ``feats['frame']`` is a tuple with each branch's
                frame features, shape ``(B, T, C_i)``.
            data_samples (Sequence[VideoReIDDataSample]): With ``gt_label``.

        Returns:
            dict: ``loss_ce_video`` and (if enabled) ``loss_tri_video``.
        """
        labels = gather_labels(data_samples)
        ce, tri = [], []
        for neck, video in zip(self.necks, self._video_features(feats)):
            bn_feats, logits = neck(video)
            ce.append(self.loss_ce(logits, labels))
            if self.loss_triplet is not None:
                tri.append(self.loss_triplet(bn_feats, labels))
        losses = dict(loss_ce_video=torch.stack(ce).mean())
        if tri:
            losses['loss_tri_video'] = torch.stack(tri).mean()
        return losses

    def predict(self, feats: Dict, feature: str = 'bnneck') -> torch.Tensor:
        """The concatenated BN-neck video features.

        Args:
            feats (dict): As in :meth:`loss`.
            feature (str): Only ``'bnneck'`` is produced by this head.

        Returns:
            torch.Tensor: Features, shape ``(B, sum(C_i))``.
        """
        if feature != 'bnneck':
            raise ValueError(
                f"VideoReIDHead only produces feature='bnneck', got "
                f'{feature!r}; the Coupled baseline has no spatial or '
                'temporal neck.')
        return torch.cat([
            neck.bn(video)
            for neck, video in zip(self.necks, self._video_features(feats))
        ],
                         dim=1)




"""BN-neck: batch-normalised embedding followed by an identity classifier."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmdcct.registry import MODELS


@MODELS.register_module()
class BNNeck(BaseModule):
    """BatchNorm1d neck with a bias-free linear identity classifier.

    The "BNNeck" of Luo et al. ("Bag of Tricks and a Strong Baseline for Deep
    Person Re-identification"): the triplet loss sees the feature before BN,
    the classifier the feature after BN.

    Args:
        in_channels (int): Feature width ``C``.
        num_classes (int): Number of training identities.
        freeze_bias (bool): Keep the BN shift at zero (not trained), as for
            the ViT base feature in DCCT. Defaults to True.
        classifier_bias (bool): Give the classifier a bias. Only to load
            the DCCT authors' checkpoints, whose ViT base-feature classifier
            has one. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config. By
            default the classifier is drawn from N(0, 0.001) and BN starts
            at weight 1, bias 0.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 freeze_bias: bool = True,
                 classifier_bias: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(type='Normal', layer='Linear', std=0.001, bias=0),
                dict(type='Constant', layer='BatchNorm1d', val=1, bias=0),
            ]
        super().__init__(init_cfg=init_cfg)
        if num_classes <= 0:
            raise ValueError(
                f'num_classes must be a positive integer, got {num_classes}')
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.bn = nn.BatchNorm1d(in_channels)
        if freeze_bias:
            self.bn.bias.requires_grad_(False)
        self.classifier = nn.Linear(
            in_channels, num_classes, bias=classifier_bias)

    def forward(self,
                feats: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Normalise the features and classify them.

        Args:
            feats (torch.Tensor): Features, shape ``(B, C)``.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: The BN features ``(B, C)`` and
            the logits ``(B, num_classes)``.
        """
        bn_feats = self.bn(feats)
        return bn_feats, self.classifier(bn_feats)

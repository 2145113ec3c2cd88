"""Batch-hard triplet loss for person re-identification."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmdcct.registry import MODELS


def pairwise_distance(feats: torch.Tensor,
                      metric: str = 'euclidean') -> torch.Tensor:
    """Pairwise distances between the rows of ``feats``.

    Args:
        feats (torch.Tensor): Features, shape ``(B, C)``.
        metric (str): ``'euclidean'`` or ``'cosine'`` (``1 - cos``).

    Returns:
        torch.Tensor: Distance matrix, shape ``(B, B)``.
    """
    if metric == 'cosine':
        normed = F.normalize(feats, dim=1)
        return 1.0 - normed @ normed.t()
    if metric == 'euclidean':
        sq = feats.pow(2).sum(dim=1, keepdim=True)
        dist = sq + sq.t() - 2.0 * feats @ feats.t()
        # clamp before sqrt: rounding can make a zero distance negative, and
        # sqrt's gradient at exactly 0 is infinite.
        return dist.clamp(min=1e-12).sqrt()
    raise ValueError(
        f"metric must be 'euclidean' or 'cosine', but got {metric!r}")


@MODELS.register_module()
class TripletLoss(nn.Module):
    """Batch-hard triplet loss (Hermans et al., "In Defense of the Triplet
    Loss for Person Re-Identification").

    For every anchor the hardest positive (farthest same-id sample) and the
    hardest negative (closest other-id sample) in the batch form the triplet.

    Args:
        margin (float): Margin of the ranking loss. Defaults to 0.3.
        distance (str): ``'cosine'`` (the DCCT authors' choice) or
            ``'euclidean'``. Defaults to ``'cosine'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 margin: float = 0.3,
                 distance: str = 'cosine',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if distance not in ('cosine', 'euclidean'):
            raise ValueError("TripletLoss distance must be 'cosine' or "
                             f"'euclidean', but got {distance!r}")
        self.margin = margin
        self.distance = distance
        self.loss_weight = loss_weight

    def forward(self, feats: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats (torch.Tensor): Features, shape ``(B, C)``.
            labels (torch.Tensor): Identity labels, shape ``(B,)``.

        Returns:
            torch.Tensor: Scalar loss. Anchors with no positive or no
            negative in the batch are ignored; a batch without any valid
            anchor gives a zero loss that still keeps the graph.
        """
        # hard mining compares distances a margin apart: float32 even under
        # autocast, whose bf16 matmul would round them by ~1e-2
        with torch.autocast(device_type=feats.device.type, enabled=False):
            dist = pairwise_distance(feats.float(), self.distance)
        same = labels.view(-1, 1) == labels.view(1, -1)
        eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
        pos_mask = same & ~eye
        neg_mask = ~same
        valid = pos_mask.any(dim=1) & neg_mask.any(dim=1)
        if not valid.any():
            return feats.sum() * 0.0
        hardest_pos = dist.masked_fill(~pos_mask, float('-inf')).amax(dim=1)
        hardest_neg = dist.masked_fill(~neg_mask, float('inf')).amin(dim=1)
        loss = F.relu(hardest_pos - hardest_neg + self.margin)[valid].mean()
        return self.loss_weight * loss

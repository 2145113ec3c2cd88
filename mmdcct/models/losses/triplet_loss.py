"""Batch-hard triplet loss for person re-identification."""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather, get_rank, get_world_size

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


class _ScaleGrad(torch.autograd.Function):
    """Identity in the forward pass; multiplies the gradient by ``scale``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad * ctx.scale, None


def gather_batch(feats: torch.Tensor,
                 labels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Concatenate the features and labels of all ranks, in rank order.

    Local batches may differ in size: the sizes are gathered first and every
    rank pads to the largest. Every rank must call this the same number of
    times (it runs collectives). The local rows keep their graph, with the
    gradient multiplied by the world size (see :class:`TripletLoss`); the
    other ranks' rows are constants.

    Args:
        feats (torch.Tensor): Local features, shape ``(B_r, C)``.
        labels (torch.Tensor): Local labels, shape ``(B_r,)``.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: Global features ``(sum B_r, C)``
        (float32) and labels ``(sum B_r,)``.
    """
    world_size = get_world_size()
    feats = feats.float()
    labels = labels.reshape(-1)
    sizes = [
        int(n) for n in all_gather(
            torch.tensor([feats.shape[0]], device=feats.device))
    ]
    max_size = max(sizes)
    pad = max_size - feats.shape[0]
    padded_feats = F.pad(feats.detach(), (0, 0, 0, pad))
    padded_labels = F.pad(labels, (0, pad))
    all_feats = all_gather(padded_feats)
    all_labels = all_gather(padded_labels)
    rank = get_rank()
    all_feats[rank] = _ScaleGrad.apply(feats, float(world_size))
    all_labels[rank] = labels
    return (torch.cat([f[:n] for f, n in zip(all_feats, sizes)]),
            torch.cat([lb[:n] for lb, n in zip(all_labels, sizes)]))


@MODELS.register_module()
class TripletLoss(nn.Module):
    """Batch-hard triplet loss (Hermans et al., "In Defense of the Triplet
    Loss for Person Re-Identification").

    For every anchor the hardest positive (farthest same-id sample) and the
    hardest negative (closest other-id sample) in the batch form the triplet.

    With ``gather_across_ranks=True`` under a distributed run (world size
    ``W > 1``), the features and labels of all ranks are gathered and mining
    runs over the whole global batch, as in the DCCT authors' public code,
    whose ``nn.DataParallel`` lets every loss see the full P x K batch:
    2 GPUs x 8 tracklets then mine like one batch of 16. Every rank gets the
    loss value of the global batch. Only the local rows carry a gradient (the
    others are constants), so the sum over ranks of the per-rank gradients is
    the single-process gradient; DDP *averages* gradients over ranks, which
    would scale the triplet term by ``1 / W``. The gradient of the local rows
    is therefore multiplied by ``W`` (the value is unchanged), so the
    gradient DDP applies equals that of one process over the global batch,
    like the CE terms. In one process the switch changes nothing.

    Args:
        margin (float): Margin of the ranking loss. Defaults to 0.3.
        distance (str): ``'cosine'`` (the DCCT authors' choice) or
            ``'euclidean'``. Defaults to ``'cosine'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        gather_across_ranks (bool): Mine over the batches of all ranks (see
            above). Every rank must then call the loss the same number of
            times per iteration. Defaults to False.
    """

    def __init__(self,
                 margin: float = 0.3,
                 distance: str = 'cosine',
                 loss_weight: float = 1.0,
                 gather_across_ranks: bool = False) -> None:
        super().__init__()
        if distance not in ('cosine', 'euclidean'):
            raise ValueError("TripletLoss distance must be 'cosine' or "
                             f"'euclidean', but got {distance!r}")
        self.margin = margin
        self.distance = distance
        self.loss_weight = loss_weight
        self.gather_across_ranks = gather_across_ranks

    def forward(self, feats: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats (torch.Tensor): Features, shape ``(B, C)``.
            labels (torch.Tensor): Identity labels, shape ``(B,)``.

        Returns:
            torch.Tensor: Scalar loss. Anchors with no positive or no
            negative in the (global) batch are ignored; a batch without any
            valid anchor gives a zero loss that still keeps the graph.
        """
        local_feats = feats
        if self.gather_across_ranks and get_world_size() > 1:
            # before any early return: every rank must join the collectives
            feats, labels = gather_batch(feats, labels)
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
            return local_feats.sum() * 0.0
        hardest_pos = dist.masked_fill(~pos_mask, float('-inf')).amax(dim=1)
        hardest_neg = dist.masked_fill(~neg_mask, float('inf')).amin(dim=1)
        loss = F.relu(hardest_pos - hardest_neg + self.margin)[valid].mean()
        return self.loss_weight * loss

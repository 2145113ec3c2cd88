"""Feature distillation (FD) of DCCT's self-distillation (§III-D)."""
from typing import Sequence, Union

import torch
import torch.nn as nn

from mmdcct.registry import MODELS
from .utils import reduce_branches, repeat_teacher

__all__ = ['FeatureDistillationLoss']


@MODELS.register_module()
class FeatureDistillationLoss(nn.Module):
    """Distance from every branch's hinted frame features to the video one.

    With ``f`` the teacher feature of a tracklet ``(B, D)``, repeated over
    its ``T`` frames and detached, and ``H_i(g_i)`` a branch's frame
    features mapped to ``D`` by its hint network ``(B·T, D)`` (the hint
    networks are parameters of the head), ``mode='l2'`` takes the L2 norm
    of the whole difference tensor ``‖H_i(g_i) − f‖`` (the authors' public
    code), ``'mse'`` the mean squared difference. The branches are reduced
    by ``branch_reduction`` (``'sum'``: ``‖Hc(gc) − f‖ + ‖Ht(gt) − f‖`` as
    the authors), the result multiplied by ``loss_weight``. Computed in
    float32. The teacher gets no gradient.

    Args:
        mode (str): ``'l2'`` or ``'mse'``. Defaults to ``'l2'``.
        branch_reduction (str): ``'sum'`` or ``'mean'`` over the branches.
            Defaults to ``'sum'``.
        loss_weight (float): Weight of the loss. Defaults to 0.1.
    """

    def __init__(self,
                 mode: str = 'l2',
                 branch_reduction: str = 'sum',
                 loss_weight: float = 0.1) -> None:
        super().__init__()
        if mode not in ('l2', 'mse'):
            raise ValueError("FeatureDistillationLoss: mode must be 'l2' or "
                             f"'mse', got {mode!r}")
        if branch_reduction not in ('sum', 'mean'):
            raise ValueError("FeatureDistillationLoss: branch_reduction must "
                             f"be 'sum' or 'mean', got {branch_reduction!r}")
        self.mode = mode
        self.branch_reduction = branch_reduction
        self.loss_weight = loss_weight

    def forward(self, student_feats: Union[torch.Tensor,
                                           Sequence[torch.Tensor]],
                teacher_feats: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            student_feats (torch.Tensor | Sequence[torch.Tensor]): Hinted
                frame features of each branch, each ``(B·T, D)``, frames of
                a tracklet consecutive.
            teacher_feats (torch.Tensor): Video features ``(B, D)``.

        Returns:
            torch.Tensor: The weighted loss, a scalar.
        """
        if isinstance(student_feats, torch.Tensor):
            student_feats = [student_feats]
        target = repeat_teacher(teacher_feats.detach().float(), student_feats,
                                'FeatureDistillationLoss')
        dists = []
        for feats in student_feats:
            diff = feats.float() - target
            dists.append(
                torch.linalg.vector_norm(diff) if self.mode ==
                'l2' else diff.pow(2).mean())
        return self.loss_weight * reduce_branches(dists,
                                                  self.branch_reduction)

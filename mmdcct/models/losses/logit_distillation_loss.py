"""Logit distillation (LD) of DCCT's self-distillation (§III-D)."""
from typing import Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmdcct.registry import MODELS
from .utils import reduce_branches, repeat_teacher

__all__ = ['LogitDistillationLoss']


@MODELS.register_module()
class LogitDistillationLoss(nn.Module):
    """KL divergence from the video logits to every branch's frame logits.

    With ``z_f`` the teacher logits of a tracklet ``(B, K)``, repeated over
    its ``T`` frames and detached, and ``z_b`` a branch's frame logits
    ``(B·T, K)``, each branch contributes
    ``KL(softmax(z_f / τ) ‖ softmax(z_b / τ))`` (``batchmean`` over the
    ``B·T`` frames). The branches are reduced by ``branch_reduction``
    (``'sum'``: ``KL_cnn + KL_vit`` as the authors' public code), the result
    optionally multiplied by ``τ²`` and by ``loss_weight``. Computed in
    float32. The teacher gets no gradient.

    Args:
        tau (float): Softmax temperature ``τ > 0``. Defaults to 0.3.
        tau_square (bool): Multiply by ``τ²`` (Hinton et al.); the authors
            do not. Defaults to False.
        branch_reduction (str): ``'sum'`` or ``'mean'`` over the branches.
            Defaults to ``'sum'``.
        loss_weight (float): Weight of the loss (the paper's 0.1; the
            authors' code uses 1). Defaults to 0.1.
    """

    def __init__(self,
                 tau: float = 0.3,
                 tau_square: bool = False,
                 branch_reduction: str = 'sum',
                 loss_weight: float = 0.1) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'LogitDistillationLoss: tau must be > 0, got '
                             f'{tau}')
        if branch_reduction not in ('sum', 'mean'):
            raise ValueError("LogitDistillationLoss: branch_reduction must "
                             f"be 'sum' or 'mean', got {branch_reduction!r}")
        self.tau = tau
        self.tau_square = tau_square
        self.branch_reduction = branch_reduction
        self.loss_weight = loss_weight

    def forward(self, student_logits: Union[torch.Tensor,
                                            Sequence[torch.Tensor]],
                teacher_logits: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            student_logits (torch.Tensor | Sequence[torch.Tensor]): Frame
                logits of each branch, each ``(B·T, K)``, frames of a
                tracklet consecutive.
            teacher_logits (torch.Tensor): Video logits ``(B, K)``.

        Returns:
            torch.Tensor: The weighted loss, a scalar.
        """
        if isinstance(student_logits, torch.Tensor):
            student_logits = [student_logits]
        teacher = repeat_teacher(
            F.log_softmax(teacher_logits.detach().float() / self.tau, dim=1),
            student_logits, 'LogitDistillationLoss')
        kl = [
            F.kl_div(
                F.log_softmax(z.float() / self.tau, dim=1),
                teacher,
                reduction='batchmean',
                log_target=True) for z in student_logits
        ]
        loss = reduce_branches(kl, self.branch_reduction)
        if self.tau_square:
            loss = loss * self.tau**2
        return self.loss_weight * loss

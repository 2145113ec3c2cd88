"""Helpers shared by the self-distillation losses."""
from typing import List, Sequence

import torch

__all__ = ['reduce_branches', 'repeat_teacher']


def reduce_branches(values: List[torch.Tensor], how: str) -> torch.Tensor:
    """Sum or average per-branch scalar losses."""
    stacked = torch.stack(values)
    return stacked.mean() if how == 'mean' else stacked.sum()


def repeat_teacher(teacher: torch.Tensor, students: Sequence[torch.Tensor],
                   name: str) -> torch.Tensor:
    """Repeat a per-tracklet teacher ``(B, C)`` over the frames ``(B·T, C)``.

    Args:
        teacher (torch.Tensor): Per-tracklet target, shape ``(B, C)``.
        students (Sequence[torch.Tensor]): Per-frame inputs, each
            ``(B·T, C)``.
        name (str): The loss, for error messages.

    Returns:
        torch.Tensor: The teacher, shape ``(B·T, C)``.
    """
    rows = {s.shape[0] for s in students}
    num = teacher.shape[0]
    if not students or len(rows) != 1 or next(iter(rows)) % num:
        raise ValueError(
            f'{name}: every student input must have B·T rows for the B='
            f'{num} teacher rows (T frames per tracklet); got '
            f'{sorted(rows)} rows')
    return teacher.repeat_interleave(next(iter(rows)) // num, dim=0)

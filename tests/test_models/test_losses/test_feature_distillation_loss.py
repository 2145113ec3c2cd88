"""FeatureDistillationLoss: the distance from every branch's hinted frame
features to the detached video feature, as DCCT's head computed it inline."""
import pytest
import torch

from mmdcct.models.losses import FeatureDistillationLoss
from mmdcct.registry import MODELS

B, T, D = 4, 3, 5


def _feats(requires_grad=True):
    torch.manual_seed(0)
    students = [torch.randn(B * T, D, requires_grad=requires_grad)
                for _ in range(2)]
    teacher = torch.randn(B, D, requires_grad=requires_grad)
    return students, teacher


@pytest.mark.parametrize('mode, reduction, weight', [
    ('l2', 'sum', 0.1),
    ('mse', 'mean', 0.5),
])
def test_value_written_out(mode, reduction, weight):
    students, teacher = _feats()
    loss = MODELS.build(
        dict(type='FeatureDistillationLoss', mode=mode,
             branch_reduction=reduction, loss_weight=weight))
    f = teacher.detach().repeat_interleave(T, 0)
    if mode == 'l2':  # the L2 norm of the whole difference tensor
        dists = [((s - f)**2).sum().sqrt() for s in students]
    else:
        dists = [((s - f)**2).sum() / (B * T * D) for s in students]
    expected = sum(dists) if reduction == 'sum' else sum(dists) / 2
    torch.testing.assert_close(loss(students, teacher), weight * expected)


@pytest.mark.parametrize('mode', ['l2', 'mse'])
def test_bit_identical_to_the_former_inline_computation(mode):
    """The expression SelfDistillationHead evaluated before FD was a loss."""
    students, teacher = _feats()
    target = teacher.detach().float().repeat_interleave(T, dim=0)
    dists = []
    for s in students:
        diff = s.float() - target
        dists.append(
            torch.linalg.vector_norm(diff) if mode ==
            'l2' else diff.pow(2).mean())
    expected = 0.1 * torch.stack(dists).sum()
    got = FeatureDistillationLoss(mode=mode)(students, teacher)
    assert torch.equal(got, expected)


def test_teacher_gets_no_gradient_students_do():
    students, teacher = _feats()
    FeatureDistillationLoss()(students, teacher).backward()
    assert teacher.grad is None
    assert all(s.grad is not None and s.grad.abs().sum() > 0
               for s in students)


def test_zero_when_the_students_equal_the_teacher():
    _, teacher = _feats(requires_grad=False)
    same = teacher.repeat_interleave(T, 0)
    for mode in ('l2', 'mse'):
        assert FeatureDistillationLoss(mode=mode)(same, teacher) == 0


@pytest.mark.parametrize('kwargs, match', [
    (dict(mode='l1'), "'l2' or 'mse'"),
    (dict(branch_reduction='max'), "'sum' or 'mean'"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FeatureDistillationLoss(**kwargs)

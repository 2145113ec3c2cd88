"""LogitDistillationLoss: the KL from the detached video logits to every
branch's frame logits, as DCCT's head computed it inline."""
import pytest
import torch
import torch.nn.functional as F

from mmdcct.models.losses import LogitDistillationLoss
from mmdcct.registry import MODELS

B, T, K = 4, 3, 6


def _logits(requires_grad=True):
    torch.manual_seed(0)
    students = [torch.randn(B * T, K, requires_grad=requires_grad)
                for _ in range(2)]
    teacher = torch.randn(B, K, requires_grad=requires_grad)
    return students, teacher


def _by_hand(students, teacher, tau, tau_square, reduction, weight):
    """KL(p_f || p_b) with probabilities written out, batchmean over B·T."""
    p_f = torch.softmax(teacher.detach() / tau, 1).repeat_interleave(T, 0)
    kl = [(p_f * (p_f.log() - torch.log_softmax(z / tau, 1))).sum() /
          (B * T) for z in students]
    loss = sum(kl) if reduction == 'sum' else sum(kl) / len(kl)
    return weight * loss * (tau**2 if tau_square else 1)


@pytest.mark.parametrize('tau, tau_square, reduction, weight', [
    (0.3, False, 'sum', 0.1),
    (0.7, True, 'mean', 1.0),
])
def test_value_is_the_kl_written_out(tau, tau_square, reduction, weight):
    students, teacher = _logits()
    loss = MODELS.build(
        dict(type='LogitDistillationLoss', tau=tau, tau_square=tau_square,
             branch_reduction=reduction, loss_weight=weight))
    torch.testing.assert_close(
        loss(students, teacher),
        _by_hand(students, teacher, tau, tau_square, reduction, weight))


def test_bit_identical_to_the_former_inline_computation():
    """The expression SelfDistillationHead evaluated before LD was a loss."""
    students, teacher = _logits()
    tau = 0.3
    target = F.log_softmax(teacher.detach().float() / tau,
                           dim=1).repeat_interleave(T, dim=0)
    kl = [
        F.kl_div(F.log_softmax(z.float() / tau, dim=1), target,
                 reduction='batchmean', log_target=True) for z in students
    ]
    expected = 0.1 * torch.stack(kl).sum()
    assert torch.equal(LogitDistillationLoss()(students, teacher), expected)


def test_teacher_gets_no_gradient_students_do():
    students, teacher = _logits()
    LogitDistillationLoss()(students, teacher).backward()
    assert teacher.grad is None
    assert all(s.grad is not None and s.grad.abs().sum() > 0
               for s in students)


def test_one_tensor_is_one_branch_and_zero_for_equal_logits():
    students, teacher = _logits(requires_grad=False)
    loss = LogitDistillationLoss(loss_weight=1.0)
    torch.testing.assert_close(loss(students[0], teacher),
                               loss(students[:1], teacher))
    same = teacher.repeat_interleave(T, 0)
    torch.testing.assert_close(loss(same, teacher), torch.tensor(0.))


@pytest.mark.parametrize('kwargs, match', [
    (dict(tau=0), 'tau must be > 0'),
    (dict(branch_reduction='max'), "'sum' or 'mean'"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LogitDistillationLoss(**kwargs)


def test_rows_not_a_multiple_of_the_teacher():
    _, teacher = _logits(requires_grad=False)
    with pytest.raises(ValueError, match='B·T rows for the B=4'):
        LogitDistillationLoss()([torch.randn(7, K)], teacher)
    with pytest.raises(ValueError, match=r'got \[8, 12\] rows'):
        LogitDistillationLoss()(
            [torch.randn(12, K), torch.randn(8, K)], teacher)

import pytest
import torch
import torch.nn.functional as F

from mmdcct.models.losses import TripletLoss, pairwise_distance
from mmdcct.registry import MODELS


def reference_batch_hard(feats, labels, margin, metric):
    losses = []
    for i in range(len(labels)):
        pos = [j for j in range(len(labels))
               if labels[j] == labels[i] and j != i]
        neg = [j for j in range(len(labels)) if labels[j] != labels[i]]
        if not pos or not neg:
            continue

        def d(a, b):
            if metric == 'cosine':
                return 1 - F.cosine_similarity(feats[a], feats[b], dim=0)
            return (feats[a] - feats[b]).norm()

        hardest_pos = max(d(i, j) for j in pos)
        hardest_neg = min(d(i, j) for j in neg)
        losses.append(torch.relu(hardest_pos - hardest_neg + margin))
    return torch.stack(losses).mean()


@pytest.mark.parametrize('metric', ['cosine', 'euclidean'])
def test_matches_reference(metric):
    torch.manual_seed(0)
    feats = torch.randn(12, 16)
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4])
    loss = TripletLoss(margin=0.3, distance=metric)(feats, labels)
    ref = reference_batch_hard(feats, labels, 0.3, metric)
    assert torch.allclose(loss, ref, atol=1e-5)


def test_pairwise_distance_euclidean_is_exact_and_differentiable():
    feats = torch.randn(5, 8, requires_grad=True)
    dist = pairwise_distance(feats, 'euclidean')
    off_diag = ~torch.eye(5, dtype=torch.bool)
    ref = torch.cdist(feats, feats)
    assert torch.allclose(dist[off_diag], ref[off_diag], atol=1e-4)
    # the diagonal is sqrt of a rounding residue, clamped to stay finite
    assert dist.diagonal().max() < 1e-2
    dist.sum().backward()
    assert torch.isfinite(feats.grad).all()


def test_no_valid_anchor_gives_zero_with_graph():
    feats = torch.randn(3, 4, requires_grad=True)
    loss = TripletLoss()(feats, torch.tensor([0, 1, 2]))
    assert loss.item() == 0
    loss.backward()
    assert feats.grad is not None


def test_registry_and_bad_distance():
    loss = MODELS.build(dict(type='TripletLoss', margin=0.5))
    assert isinstance(loss, TripletLoss) and loss.margin == 0.5
    with pytest.raises(ValueError, match='distance'):
        TripletLoss(distance='manhattan')


@pytest.mark.parametrize('metric', ['cosine', 'euclidean'])
def test_gather_across_ranks_is_a_no_op_in_one_process(metric):
    torch.manual_seed(0)
    feats = torch.randn(8, 16, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    grads, values = [], []
    for gather in (False, True):
        feats.grad = None
        loss = TripletLoss(
            distance=metric, gather_across_ranks=gather)(feats, labels)
        loss.backward()
        values.append(loss.detach())
        grads.append(feats.grad.clone())
    assert values[0] > 0
    assert torch.equal(values[0], values[1])
    assert torch.equal(grads[0], grads[1])

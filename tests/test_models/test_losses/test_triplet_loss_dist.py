"""``TripletLoss(gather_across_ranks=True)`` in a 2-process gloo run equals
one process over the concatenated batch: every rank's loss value, and the
gradient that ``DistributedDataParallel`` applies (the mean over ranks)."""
import datetime
import os.path as osp
import pickle
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

from mmdcct.models.losses import TripletLoss
from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample

IN_CHANNELS, OUT_CHANNELS = 6, 16

# name -> (local batch sizes of rank 0 and 1, global labels, frames T
# (None: video-level features (B, C); an int: per-time-index mining over
# (B, T, C) averaged over T, as the heads do), distance)
CASES = {
    # P x K: 8 ids x 2, rank 0 holds ids 0-3, rank 1 ids 4-7
    'pk_equal': ((8, 8), [i // 2 for i in range(16)], None, 'cosine'),
    # unequal sizes; positives only across ranks for some anchors, and
    # rank 1 has no local positive pair at all
    'unequal_euclidean': ((7, 5), [0, 0, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5], None,
                          'euclidean'),
    # frame level: T collectives per step on every rank
    'frames': ((4, 4), [0, 1, 2, 3, 0, 1, 2, 3], 3, 'cosine'),
    # no valid anchor in the global batch (no negative): zero, no hang
    'no_valid': ((3, 2), [7, 7, 7, 7, 7], None, 'cosine'),
}


def make_inputs(name):
    sizes, labels, frames, _ = CASES[name]
    gen = torch.Generator().manual_seed(len(name))
    shape = (sum(sizes), ) + ((frames, ) if frames else ()) + (IN_CHANNELS, )
    return torch.randn(shape, generator=gen), torch.tensor(labels)


def make_linear():
    torch.manual_seed(0)
    return nn.Linear(IN_CHANNELS, OUT_CHANNELS)


def loss_of(model, loss_fn, x, labels):
    feats = model(x)
    if feats.dim() == 2:
        return loss_fn(feats, labels)
    return torch.stack([
        loss_fn(feats[:, t], labels) for t in range(feats.shape[1])
    ]).mean()


def run_case(name, model, gather, x, labels):
    """Loss value and the parameter gradients left in ``model``."""
    loss_fn = TripletLoss(
        margin=0.3, distance=CASES[name][3], gather_across_ranks=gather)
    loss = loss_of(model, loss_fn, x, labels)
    loss.backward()
    params = model.module if hasattr(model, 'module') else model
    return dict(
        loss=loss.item(),
        weight=params.weight.grad.clone(),
        bias=params.bias.grad.clone())


def head_triplet_losses(rank=None):
    """The triplet terms of a ``SelfDistillationHead`` (frame level: one
    gather per time index) on the whole batch, or on one rank's half."""
    torch.manual_seed(0)
    num, frames, channels = 8, 3, (8, 6)
    head = MODELS.build(
        dict(
            type='SelfDistillationHead',
            num_classes=4,
            base_channels=channels,
            spatial_channels=channels,
            final_channels=4,
            loss_triplet=dict(type='TripletLoss', gather_across_ranks=True)))
    head.eval()  # BN on running statistics: the same on every rank
    feats = dict(
        base=tuple(torch.randn(num, frames, c) for c in channels),
        spatial=tuple(torch.randn(num, frames, c) for c in channels),
        final=torch.randn(num, 4))
    labels = [0, 1, 2, 3] * 2  # no positive pair within a rank's half
    if rank is not None:
        half = slice(4 * rank, 4 * rank + 4)
        feats = dict(
            base=tuple(f[half] for f in feats['base']),
            spatial=tuple(f[half] for f in feats['spatial']),
            final=feats['final'][half])
        labels = labels[half]
    samples = [VideoReIDDataSample().set_gt_label(i) for i in labels]
    losses = head.loss(feats, samples)
    return {k: losses[k].item() for k in ('loss_tri_frame', 'loss_tri_video')}


def _dist_worker(rank, world_size, port, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size,
        timeout=datetime.timedelta(seconds=60))
    try:
        results = {}
        for name in CASES:
            x, labels = make_inputs(name)
            sizes = CASES[name][0]
            start = sum(sizes[:rank])
            local = slice(start, start + sizes[rank])
            ddp = nn.parallel.DistributedDataParallel(make_linear())
            results[name] = run_case(name, ddp, True, x[local], labels[local])
        results['head'] = head_triplet_losses(rank)
        with open(osp.join(out_dir, f'rank{rank}.pkl'), 'wb') as f:
            pickle.dump(results, f)
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def two_rank_results(tmp_path_factory):
    out_dir = str(tmp_path_factory.mktemp('triplet_dist'))
    mp.spawn(
        _dist_worker, args=(2, _free_port(), out_dir), nprocs=2, join=True)
    results = []
    for rank in range(2):
        with open(osp.join(out_dir, f'rank{rank}.pkl'), 'rb') as f:
            results.append(pickle.load(f))
    return results


@pytest.mark.parametrize('name', list(CASES))
def test_two_ranks_equal_one_process(two_rank_results, name):
    x, labels = make_inputs(name)
    single = run_case(name, make_linear(), False, x, labels)
    if name == 'no_valid':
        assert single['loss'] == 0
    else:
        # a 1/W down-weighted gradient would fail the comparison below
        assert single['loss'] > 0.05
        assert single['weight'].abs().max() > 1e-2
    for rank, results in enumerate(two_rank_results):
        got = results[name]
        # each rank mines over the global batch
        assert got['loss'] == pytest.approx(single['loss'], abs=1e-6), rank
        # DDP averaged the ranks' gradients: equal to the 1-process gradient
        for key in ('weight', 'bias'):
            torch.testing.assert_close(
                got[key], single[key], atol=1e-6, rtol=1e-5)


def test_heads_mine_over_the_global_batch(two_rank_results):
    single = head_triplet_losses()
    assert min(single.values()) > 0.05
    for results in two_rank_results:
        for key, value in single.items():
            assert results['head'][key] == pytest.approx(value, abs=1e-6)

from collections import Counter

import pytest
import torch
from torch.utils.data import DataLoader

import mmdcct.datasets.samplers.identity_balanced_sampler as sampler_module
from mmdcct.datasets.samplers import IdentityBalancedSampler
from mmdcct.registry import DATA_SAMPLERS

P, K = 4, 2


class FakeTrackletDataset:
    """Minimal dataset: identities with 1..6 tracklets each."""

    def __init__(self, num_ids=21):
        self.infos = []
        for pid in range(num_ids):
            for t in range(1 + pid % 6):
                self.infos.append(
                    dict(
                        pid=pid,
                        raw_pid=1000 + pid,
                        camid=t % 6,
                        tracklet_id=t,
                        img_paths=[f'{pid}_{t}.jpg'],
                        is_query=False,
                        is_gallery=False,
                        num_frames=1,
                        sample_idx=len(self.infos)))

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, idx):
        return dict(self.infos[idx])

    def __getitem__(self, idx):
        return torch.tensor([idx, self.infos[idx]['pid']])


def _pids(ds, inds):
    return [ds.get_data_info(i)['pid'] for i in inds]


def _patch_dist(monkeypatch, rank, world):
    monkeypatch.setattr(sampler_module, 'get_dist_info', lambda: (rank, world))


def test_batches_are_p_ids_times_k():
    ds = FakeTrackletDataset()
    s = IdentityBalancedSampler(ds, num_instances=K, seed=0)
    inds = list(s)
    assert len(inds) == len(s) == 21 * K
    assert len(set(_pids(ds, inds))) == 21  # every identity once per epoch
    for start in range(0, len(inds) - P * K + 1, P * K):
        batch = _pids(ds, inds[start:start + P * K])
        counts = Counter(batch)
        assert len(counts) == P and set(counts.values()) == {K}
    # groups of K consecutive indices belong to one identity
    for start in range(0, len(inds), K):
        assert len(set(_pids(ds, inds[start:start + K]))) == 1


def test_distinct_tracklets_when_enough_and_replacement_otherwise():
    ds = FakeTrackletDataset()
    s = IdentityBalancedSampler(ds, num_instances=4, seed=3)
    inds = list(s)
    for start in range(0, len(inds), 4):
        group = inds[start:start + 4]
        pid = _pids(ds, group)[0]
        n_avail = 1 + pid % 6
        if n_avail >= 4:
            assert len(set(group)) == 4
        else:
            assert set(group) <= {
                i
                for i in range(len(ds)) if ds.infos[i]['pid'] == pid
            }


def test_determinism_and_epochs():
    ds = FakeTrackletDataset()
    a = IdentityBalancedSampler(ds, num_instances=K, seed=7)
    b = IdentityBalancedSampler(ds, num_instances=K, seed=7)
    assert list(a) == list(b)
    assert list(a) == list(a)  # re-iterating the same epoch
    e0 = list(a)
    a.set_epoch(1)
    b.set_epoch(1)
    assert list(a) == list(b) != e0
    c = IdentityBalancedSampler(ds, num_instances=K, seed=8)
    assert list(c) != e0


def test_no_shuffle_is_deterministic_sorted():
    ds = FakeTrackletDataset(num_ids=5)
    s = IdentityBalancedSampler(ds, num_instances=3, shuffle=False, seed=0)
    inds = list(s)
    assert _pids(ds, inds) == [p for p in range(5) for _ in range(3)]
    assert inds[:3] == [0, 0, 0]  # pid 0 has one tracklet, repeated
    s.set_epoch(5)
    assert list(s) == inds


@pytest.mark.parametrize('num_ids,round_up', [(21, True), (21, False),
                                              (20, True), (20, False)])
def test_two_ranks_disjoint_equal_length(monkeypatch, num_ids, round_up):
    ds = FakeTrackletDataset(num_ids=num_ids)
    for epoch in range(3):
        per_rank = []
        for rank in range(2):
            _patch_dist(monkeypatch, rank, 2)
            s = IdentityBalancedSampler(
                ds, num_instances=K, seed=11, round_up=round_up)
            s.set_epoch(epoch)
            inds = list(s)
            assert len(inds) == len(s)
            per_rank.append(inds)
        assert len(per_rank[0]) == len(per_rank[1])
        expected = (num_ids + 1) // 2 if round_up else num_ids // 2
        assert len(per_rank[0]) == expected * K
        ids0, ids1 = (set(_pids(ds, r)) for r in per_rank)
        assert ids0.isdisjoint(ids1)
        if round_up:
            assert ids0 | ids1 == set(range(num_ids))
        # batches on each rank are still P distinct ids x K
        for inds in per_rank:
            full = len(inds) // (P * K) * (P * K)
            for start in range(0, full, P * K):
                counts = Counter(_pids(ds, inds[start:start + P * K]))
                assert len(counts) == P and set(counts.values()) == {K}


def test_ranks_partition_single_process_plan(monkeypatch):
    """Same seed/epoch: the union of the ranks' identities is the whole set
    and the plan does not depend on the rank count beyond the split."""
    ds = FakeTrackletDataset(num_ids=24)
    _patch_dist(monkeypatch, 0, 1)
    single = list(IdentityBalancedSampler(ds, num_instances=K, seed=5))
    groups = [single[i:i + K] for i in range(0, len(single), K)]
    for rank in range(3):
        _patch_dist(monkeypatch, rank, 3)
        inds = list(IdentityBalancedSampler(ds, num_instances=K, seed=5))
        assert inds == [i for g in groups[rank::3] for i in g]


def test_too_few_identities_for_ranks(monkeypatch):
    ds = FakeTrackletDataset(num_ids=1)
    _patch_dist(monkeypatch, 1, 2)
    with pytest.raises(ValueError):
        IdentityBalancedSampler(ds, num_instances=K, seed=0, round_up=False)


def test_build_from_registry_and_dataloader_round_trip():
    ds = FakeTrackletDataset()
    s = DATA_SAMPLERS.build(
        dict(type='IdentityBalancedSampler', num_instances=K),
        default_args=dict(dataset=ds, seed=0))
    assert isinstance(s, IdentityBalancedSampler) and s.seed == 0
    loader = DataLoader(ds, batch_size=P * K, sampler=s, num_workers=0)
    batches = list(loader)
    assert len(batches) == len(loader) == -(-len(s) // (P * K))
    seen = []
    for batch in batches[:-1]:
        counts = Counter(batch[:, 1].tolist())
        assert len(counts) == P and set(counts.values()) == {K}
        seen += batch[:, 1].tolist()
    seen += batches[-1][:, 1].tolist()
    assert sorted(set(seen)) == list(range(21))


def test_seed_none_uses_sync_random_seed(monkeypatch):
    monkeypatch.setattr(sampler_module, 'sync_random_seed', lambda: 1234)
    s = IdentityBalancedSampler(FakeTrackletDataset(), num_instances=K)
    assert s.seed == 1234


def test_invalid_num_instances():
    with pytest.raises(ValueError):
        IdentityBalancedSampler(FakeTrackletDataset(), num_instances=0)


def test_fewer_identities_than_p_names_counts_and_fix():
    # 3 identities, batch 8 = P 4 x K 2: no full batch in an epoch
    ds = FakeTrackletDataset(num_ids=3)
    with pytest.raises(ValueError) as err:
        IdentityBalancedSampler(ds, num_instances=K, seed=0, batch_size=8)
    msg = str(err.value)
    assert 'has 3 identities' in msg
    assert 'batch_size=8' in msg and 'num_instances=2' in msg
    assert 'P=4' in msg and 'world size 1' in msg
    assert 'Lower train_dataloader.batch_size to at most 6' in msg
    # exactly P identities is enough
    s = IdentityBalancedSampler(
        FakeTrackletDataset(num_ids=4), num_instances=K, seed=0, batch_size=8)
    assert len(s) == 8


def test_fewer_identities_than_p_per_rank(monkeypatch):
    # 7 identities on 2 ranks: 4 groups per rank (round_up), 3 (trimmed)
    ds = FakeTrackletDataset(num_ids=7)
    _patch_dist(monkeypatch, 0, 2)
    IdentityBalancedSampler(ds, num_instances=K, seed=0, batch_size=8)
    with pytest.raises(ValueError) as err:
        IdentityBalancedSampler(
            ds, num_instances=K, seed=0, batch_size=8, round_up=False)
    msg = str(err.value)
    assert 'has 7 identities (3 per rank on 2 ranks)' in msg
    assert 'world size 2' in msg and 'fewer ranks' in msg


def test_invalid_batch_size_type():
    with pytest.raises(ValueError, match=r"batch_size must be a positive "
                       r"int, got '8'"):
        IdentityBalancedSampler(
            FakeTrackletDataset(), num_instances=K, batch_size='8')

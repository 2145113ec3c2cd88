"""P x K identity-balanced sampler for Re-ID training.

Config-level contract (the Runner passes ``dataset`` and ``seed``)::

    train_dataloader = dict(
        batch_size=16,                       # = P * K, per GPU
        sampler=dict(type='IdentityBalancedSampler', num_instances=2),
        ...)

Epoch plan. Every epoch, each training identity contributes exactly one
*group* of ``K = num_instances`` tracklet indices (``K`` distinct tracklets
drawn without replacement, or with replacement when the identity has fewer
than ``K``), and the identities are visited in a shuffled order. The sampler
yields the groups back to back, so with ``batch_size = P * K`` every batch
holds ``P`` distinct identities x ``K`` tracklets each (only the last batch of
an epoch may be shorter, unless ``drop_last=True``). This is the classic
video Re-ID ``RandomIdentitySampler``; an epoch has ``num_ids * K`` indices.

Randomness. Everything is drawn from ``numpy.random.default_rng(seed +
epoch)``: the same seed and epoch always give the same order, a new epoch
(``set_epoch``, called by MMEngine's ``DistSamplerSeedHook``) gives a new one.
``seed=None`` uses ``mmengine.dist.sync_random_seed()`` (identical on all
ranks).

Distributed. All ranks compute the same epoch plan and take disjoint strided
slices of the identity order (rank ``r`` gets identities ``r, r + W, r + 2W,
...`` of the shuffled list, ``W`` = world size), so no identity is seen by two
ranks in the same epoch. DDP needs every rank to yield the same number of
indices; with ``n`` identities:

- ``round_up=True``: every rank yields ``ceil(n / W)`` groups; a rank that
  got one identity fewer appends one extra group of *its own first
  identity* (freshly drawn), so ranks stay disjoint. That identity can share
  a batch with its first group only when the rank has at most ``P`` groups.
- ``round_up=False``: every rank yields ``floor(n / W)`` groups; the
  ``n mod W`` identities left over at the end of the shuffled order skip this
  epoch (a different few every epoch).

Too few identities. A rank needs at least ``P = batch_size / K`` groups for
one batch of ``P`` identities. When the sampler knows ``batch_size``
(``tools/train.py`` passes ``train_dataloader.batch_size`` through
:func:`mmdcct.utils.validate_config`), construction fails with the identity
count, ``P``, ``batch_size``, ``num_instances`` and the world size instead of
an empty epoch (MMEngine's "``epoch_length`` must be a positive integer").
"""
import math
from typing import Dict, Iterator, List, Optional, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmdcct.registry import DATA_SAMPLERS

__all__ = ['IdentityBalancedSampler']


@DATA_SAMPLERS.register_module()
class IdentityBalancedSampler(Sampler):
    """Yield ``K`` tracklets of one identity at a time, identities shuffled.

    Use it with ``batch_size = P * K`` on the DataLoader to get batches of
    ``P`` identities x ``K`` tracklets. See the module docstring for the epoch
    plan and the distributed contract.

    Args:
        dataset (Sized): Dataset with ``__len__`` and ``get_data_info(i)``
            returning a dict with an int ``'pid'``. The labels are read once,
            here.
        num_instances (int): ``K``, tracklets per identity in a batch.
            Defaults to 4.
        shuffle (bool): Shuffle identities and draw tracklets at random.
            If False the order is fully deterministic: identities in
            ascending ``pid`` order, each with its first ``K`` tracklets
            (cyclically repeated when it has fewer). Defaults to True.
        seed (int, optional): Base seed, identical on all ranks. None means
            ``sync_random_seed()``. Defaults to None.
        round_up (bool): Pad (True) or trim (False) so that every rank yields
            the same number of indices. Defaults to True.
        batch_size (int, optional): The DataLoader's per-rank batch size
            ``P * K``. When given, construction checks that every rank gets at
            least ``P`` identities per epoch. ``validate_config`` (called by
            ``tools/train.py``) sets it to ``train_dataloader.batch_size``.
            Defaults to None (no check).
    """

    def __init__(self,
                 dataset: Sized,
                 num_instances: int = 4,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True,
                 batch_size: Optional[int] = None) -> None:
        if (not isinstance(num_instances, int) or isinstance(
                num_instances, bool) or num_instances < 1):
            raise ValueError('num_instances must be a positive int, got '
                             f'{num_instances!r}.')
        if batch_size is not None and (not isinstance(batch_size, int)
                                       or isinstance(batch_size, bool)
                                       or batch_size < 1):
            raise ValueError('batch_size must be a positive int, got '
                             f'{batch_size!r}.')
        rank, world_size = get_dist_info()
        self.rank = rank
        self.world_size = world_size

        self.dataset = dataset
        self.num_instances = num_instances
        self.shuffle = shuffle
        if seed is None:
            seed = sync_random_seed()
        self.seed = int(seed)
        self.epoch = 0
        self.round_up = round_up

        index_dict: Dict[int, List[int]] = {}
        for idx in range(len(dataset)):
            pid = int(dataset.get_data_info(idx)['pid'])
            index_dict.setdefault(pid, []).append(idx)
        if not index_dict:
            raise ValueError('IdentityBalancedSampler got an empty dataset.')
        self.pids: List[int] = sorted(index_dict)
        self.index_dict: Dict[int, np.ndarray] = {
            pid: np.asarray(inds, dtype=np.int64)
            for pid, inds in index_dict.items()
        }

        num_ids = len(self.pids)
        if round_up:
            self.num_groups = math.ceil(num_ids / world_size)
        else:
            self.num_groups = num_ids // world_size
        if self.num_groups == 0:
            raise ValueError(
                f'Only {num_ids} identities for {world_size} ranks: every '
                'rank needs at least one identity (use round_up=True or '
                'fewer ranks).')
        self.num_samples = self.num_groups * num_instances
        self.batch_size = batch_size
        if batch_size is not None:
            self._check_enough_identities(batch_size)

    def _check_enough_identities(self, batch_size: int) -> None:
        """Raise if a rank cannot fill one batch of ``P`` identities."""
        k = self.num_instances
        num_ids = len(self.pids)
        p = math.ceil(batch_size / k)
        if self.num_groups >= p:
            return
        per_rank = (f'{self.num_groups} per rank on {self.world_size} ranks'
                    if self.world_size > 1 else 'on 1 rank')
        fewer_ranks = (' or train on fewer ranks,'
                       if self.world_size > 1 else '')
        max_batch = self.num_groups * k
        raise ValueError(
            f'IdentityBalancedSampler: the training set '
            f'({type(self.dataset).__name__}) has {num_ids} identities '
            f'({per_rank}), but train_dataloader.batch_size={batch_size} '
            f'with train_dataloader.sampler.num_instances={k} needs '
            f'P={p} identities per rank for one batch (world size '
            f'{self.world_size}), so an epoch would have no full batch. '
            f'Lower train_dataloader.batch_size to at most {max_batch} '
            f'(a multiple of num_instances),{fewer_ranks} or check that '
            'the dataset (data_root, split) is the one intended.')

    @property
    def num_identities(self) -> int:
        """int: Number of distinct identities in the dataset."""
        return len(self.pids)

    def _draw_group(self, pid: int, rng: np.random.Generator) -> np.ndarray:
        """Draw the ``K`` tracklet indices of one identity.

        Args:
            pid (int): The identity.
            rng (np.random.Generator): Epoch generator.

        Returns:
            np.ndarray: ``np.int64`` array of shape ``(K,)``.
        """
        inds = self.index_dict[pid]
        k = self.num_instances
        if not self.shuffle:
            return inds[np.arange(k) % len(inds)]
        return rng.choice(inds, size=k, replace=len(inds) < k)

    def __iter__(self) -> Iterator[int]:
        """Yield this rank's indices for the current epoch.

        Returns:
            Iterator[int]: ``len(self)`` dataset indices, ``K`` consecutive
            ones per identity.
        """
        rng = np.random.default_rng(self.seed + self.epoch)
        if self.shuffle:
            order = rng.permutation(len(self.pids))
        else:
            order = np.arange(len(self.pids))
        # the global plan: one group per identity, same on every rank
        groups = [self._draw_group(self.pids[i], rng) for i in order]
        pids = [self.pids[i] for i in order]

        mine = groups[self.rank::self.world_size][:self.num_groups]
        my_pids = pids[self.rank::self.world_size][:self.num_groups]
        while len(mine) < self.num_groups:  # round_up padding (at most 1)
            mine.append(self._draw_group(my_pids[0], rng))

        indices = np.concatenate(mine).tolist() if mine else []
        return iter(indices)

    def __len__(self) -> int:
        """int: Number of indices this rank yields per epoch."""
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which changes the (seeded) order.

        Args:
            epoch (int): Epoch number.
        """
        self.epoch = epoch

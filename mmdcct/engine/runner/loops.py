"""An epoch-based train loop that resumes exactly in the middle of an epoch."""
import logging
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from mmdcct.registry import LOOPS
from ..hooks.random_state import get_random_state, set_random_state
from ..hooks.resume_state_hook import ResumeStateHook

__all__ = ['ResumableEpochBasedTrainLoop']


class _SkipFirstBatches:
    """Index sampler that drops the first ``skip`` batches of one epoch.

    Only indices are generated for the dropped batches (no data is loaded).
    The full epoch plan is drawn eagerly when the DataLoader creates its
    iterator, i.e. before the loop restores the RNG states. Outside the
    resumed epoch (e.g. when a persistent-worker iterator keeps this object)
    it is the wrapped sampler unchanged.

    Args:
        sampler: The DataLoader's ``batch_sampler`` (or ``sampler`` without
            auto-collation).
        skip (int): Number of leading batches to drop.
        active (callable): Returns True while the resumed epoch runs.
    """

    def __init__(self, sampler, skip: int, active) -> None:
        self.sampler = sampler
        self.skip = skip
        self.active = active

    def __iter__(self) -> Iterator[Any]:
        if not self.active():
            return iter(self.sampler)
        plan: List[Any] = list(self.sampler)
        return iter(plan[self.skip:])

    def __len__(self) -> int:
        return len(self.sampler)


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that resumes mid-epoch where it stopped.

    MMEngine 0.10.7 restarts the whole epoch after resuming from an
    iteration checkpoint (``CheckpointHook(by_epoch=False)``), training the
    already-seen batches twice. This loop, together with
    :class:`mmdcct.engine.ResumeStateHook` (registered automatically),
    continues exactly:

    - the resumed epoch skips the batches already trained, generating their
      indices only (the sampler's epoch is set first, by
      ``DistSamplerSeedHook``, so the plan is the same as before);
    - the Python / numpy / torch (/ CUDA) RNG states saved in the checkpoint
      are restored at the point where they were captured: after the resumed
      epoch's DataLoader iterator is created (mid-epoch checkpoints) or
      before the next epoch's hooks (epoch-end checkpoints);
    - validation does not consume training randomness: the RNG states are
      saved before and restored after ``val_loop.run()``, so an epoch
      checkpoint followed by validation resumes exactly too (and
      ``--no-validate`` does not change the training trajectory).

    Model, optimizer, parameter schedulers, message hub and the epoch /
    iteration counters are restored by MMEngine's ``Runner.resume``.

    DataLoader workers. MMEngine seeds each worker with
    ``seed + num_workers * rank + worker_id`` whenever the iterator starts
    its workers (every epoch unless ``persistent_workers=True``), so
    augmentations drawn inside workers are reproducible per epoch start,
    but not across a mid-epoch resume: the resumed workers start their
    streams at the first unseen batch. Use ``num_workers=0`` (augmentations
    in the main process, whose RNG is restored) for bit-exact mid-epoch
    resume; with workers, weights/optimizer/sampler order are continued
    exactly and only the augmentation draws of the rest of the resumed
    epoch differ (a warning says so). Resuming from epoch-end checkpoints
    with ``persistent_workers=False`` is exact with workers too.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The training dataloader.
        max_epochs (int): Total training epochs.
        val_begin (int): The epoch that begins validating. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1.
        dynamic_intervals (list[tuple[int, int]], optional): As in
            ``EpochBasedTrainLoop``.
        rng_neutral_val (bool): Restore the RNG states after validation.
            Defaults to True.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None,
                 rng_neutral_val: bool = True) -> None:
        super().__init__(runner, dataloader, max_epochs, val_begin,
                         val_interval, dynamic_intervals)
        self.rng_neutral_val = rng_neutral_val
        # (epoch to enter, batches of it already trained, iter counter)
        self._position: Tuple[int, int, int] = (0, 0, 0)
        self._val_rng_state: Optional[dict] = None
        self._skip_epoch: Optional[int] = None
        self._state_hook = self._find_or_register_state_hook(runner)

    def _find_or_register_state_hook(self, runner) -> ResumeStateHook:
        hook = next(
            (h for h in runner.hooks if isinstance(h, ResumeStateHook)), None)
        if hook is None:
            hook = ResumeStateHook()
            runner.register_hook(hook)
        hook.loop = self
        return hook

    @property
    def resume_point(self) -> Dict[str, int]:
        """dict: Where a run resumed from a checkpoint written now goes on:
        ``epoch`` to enter, batches to ``skip`` in it, ``iter`` counter."""
        epoch, skip, iteration = self._position
        return dict(epoch=epoch, skip=skip, iter=iteration)

    @property
    def val_rng_state(self) -> Optional[dict]:
        """dict | None: The training RNG states while validation runs."""
        return self._val_rng_state

    def _take_resume_state(self) -> Optional[Dict[str, Any]]:
        """The loaded resume state if this run resumes that checkpoint."""
        state = self._state_hook.pop_loaded_state()
        if state is None:
            if self._iter and self._iter != self._epoch * len(self.dataloader):
                print_log(
                    f'Resumed at iteration {self._iter} of epoch '
                    f'{self._epoch + 1} from a checkpoint without '
                    "meta['resume_state']: the epoch restarts from its first "
                    'batch (MMEngine behaviour).',
                    logger='current',
                    level=logging.WARNING)
            return None
        if (state['epoch'], state['iter']) != (self._epoch, self._iter):
            return None  # loaded as weights (load_from), not resumed
        self._position = (state['epoch'], state['skip'], state['iter'])
        if state['skip']:
            workers = getattr(self.dataloader, 'num_workers', 0)
            print_log(
                f'Resuming epoch {self._epoch + 1} after its first '
                f"{state['skip']} batches (skipped without loading data)." +
                (f' num_workers={workers}: augmentations drawn in workers '
                 'for the rest of this epoch differ from an uninterrupted '
                 'run (use num_workers=0 for a bit-exact resume).'
                 if workers else ''),
                logger='current',
                level=logging.WARNING if workers else logging.INFO)
        return state

    def run(self):
        """Launch training (``EpochBasedTrainLoop.run`` + exact resume)."""
        self.runner.call_hook('before_train')
        resume = self._take_resume_state()

        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch(resume)
            resume = None

            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._epoch >= self.val_begin
                    and (self._epoch % self.val_interval == 0
                         or self._epoch == self._max_epochs)):
                self._run_val()

        self.runner.call_hook('after_train')
        return self.runner.model

    def _run_val(self) -> None:
        if not self.rng_neutral_val:
            self.runner.val_loop.run()
            return
        self._val_rng_state = get_random_state()
        try:
            self.runner.val_loop.run()
        finally:
            set_random_state(self._val_rng_state)
            self._val_rng_state = None

    def _iter_dataloader(self, skip: int) -> Iterator[Sequence[dict]]:
        """``iter(self.dataloader)`` without the first ``skip`` batches."""
        loader = self.dataloader
        if skip <= 0:
            return iter(loader)
        attr = 'batch_sampler' if loader.batch_sampler is not None \
            else 'sampler'
        original = getattr(loader, attr)
        epoch = self._epoch
        wrapper = _SkipFirstBatches(original, skip,
                                    lambda: self._skip_epoch == epoch)
        self._skip_epoch = epoch
        # DataLoader forbids setting these after __init__; the iterator reads
        # the index sampler when it is created, then we put it back.
        object.__setattr__(loader, attr, wrapper)
        try:
            return iter(loader)
        finally:
            object.__setattr__(loader, attr, original)

    def run_epoch(self, resume: Optional[Dict[str, Any]] = None) -> None:
        """Iterate one epoch, or the rest of the resumed one.

        Args:
            resume (dict, optional): The loaded resume state (first epoch
                after resuming only).
        """
        skip = resume['skip'] if resume else 0
        rng = resume.get('rng') if resume else None
        if rng is not None and not skip:
            set_random_state(rng)  # captured at the end of the last epoch
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        batches = self._iter_dataloader(skip)
        if rng is not None and skip:
            set_random_state(rng)  # captured after `skip` batches
        try:
            for idx, data_batch in enumerate(batches, start=skip):
                self._position = (self._epoch, idx + 1, self._iter + 1)
                self.run_iter(idx, data_batch)
        finally:
            self._skip_epoch = None
        self._position = (self._epoch + 1, 0, self._iter)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

"""Save the loop position and RNG states with every checkpoint."""
import logging
from typing import Any, Dict, List, Optional

from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from mmdcct.registry import HOOKS
from .random_state import get_random_state

__all__ = ['ResumeStateHook']

#: Key of the resume state in ``checkpoint['meta']``.
META_KEY = 'resume_state'


@HOOKS.register_module()
class ResumeStateHook(Hook):
    """Store what an exact mid-epoch resume needs in ``checkpoint['meta']``.

    Works with :class:`mmdcct.engine.ResumableEpochBasedTrainLoop`, which
    registers this hook itself when the config does not and sets
    :attr:`loop`. Every checkpoint
    gets ``meta['resume_state']``::

        dict(epoch=E,       # the epoch the resumed loop enters
             skip=S,        # batches of that epoch already trained
             iter=I,        # the loop's iteration counter at that point
             world_size=W,
             rng=[...])     # per rank: python / numpy / torch / cuda states

    The RNG states are captured at the moment the checkpoint is written
    (during validation: the states from before validation, which the loop
    restores after it). In distributed runs only rank 0 writes checkpoints,
    so the states of all ranks are gathered just before the
    ``CheckpointHook`` runs (priority 85, just above its ``VERY_LOW``). Every
    value is a tensor or a plain Python object, so the checkpoint still
    loads with ``weights_only=True``.

    On load, the state is handed to the loop, which uses it only if the
    checkpoint is resumed (its epoch and iteration match the loop's).
    """

    priority = 85

    def __init__(self) -> None:
        self.loaded_state: Optional[Dict[str, Any]] = None
        #: The resumable train loop; set by the loop itself.
        self.loop: Optional[Any] = None
        self._gathered: Optional[List[dict]] = None

    # -- capture -----------------------------------------------------------
    def _local_rng(self, runner) -> dict:
        paused = self.loop.val_rng_state if self.loop is not None else None
        return paused if paused is not None else get_random_state()

    def _gather(self, runner) -> None:
        if get_dist_info()[1] > 1:
            self._gathered = all_gather_object(self._local_rng(runner))

    @staticmethod
    def _iter_save_due(runner) -> bool:
        """Whether a ``CheckpointHook`` saves after this iteration."""
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook) and not hook.by_epoch and (
                    hook.every_n_train_iters(runner, hook.interval,
                                             hook.save_begin) or
                (hook.save_last and hook.is_last_train_iter(runner))):
                return True
        return False

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        """Forget states gathered for an earlier save."""
        self._gathered = None

    def before_train_epoch(self, runner) -> None:
        """Forget states gathered for an earlier save."""
        self._gathered = None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        """Distributed: gather all ranks' RNG states if a save follows."""
        if get_dist_info()[1] > 1 and self._iter_save_due(runner):
            self._gather(runner)

    def after_train_epoch(self, runner) -> None:
        """Distributed: gather all ranks' RNG states for the epoch save."""
        self._gather(runner)

    def after_val_epoch(self, runner, metrics=None) -> None:
        """Distributed: gather the pre-validation states (best ckpt)."""
        self._gather(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Add ``meta['resume_state']`` (called on rank 0 only)."""
        loop = self.loop
        if loop is None:
            return
        rank, world_size = get_dist_info()
        if world_size > 1 and self._gathered is not None:
            rng = list(self._gathered)
        else:
            if world_size > 1:
                print_log(
                    'ResumeStateHook: saving a checkpoint outside the '
                    'iteration/epoch/validation ends; only rank 0 RNG states '
                    'are stored.',
                    logger='current',
                    level=logging.WARNING)
            rng = [self._local_rng(runner)]
        checkpoint.setdefault('meta', {})[META_KEY] = dict(
            **loop.resume_point, world_size=world_size, rng=rng)

    # -- restore -----------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep this rank's part of ``meta['resume_state']`` for the loop."""
        state = (checkpoint.get('meta') or {}).get(META_KEY)
        if not state:
            self.loaded_state = None
            return
        rank, world_size = get_dist_info()
        rngs = state.get('rng') or []
        if len(rngs) == world_size:
            rng = rngs[rank]
        else:
            rng = rngs[0] if rngs else None
            print_log(
                f'The checkpoint holds the RNG states of {len(rngs)} '
                f'rank(s), this run has {world_size}; every rank restores '
                'rank 0 states, so random draws differ from an '
                'uninterrupted run.',
                logger='current',
                level=logging.WARNING)
        self.loaded_state = dict(
            epoch=int(state['epoch']),
            skip=int(state['skip']),
            iter=int(state['iter']),
            rng=rng)

    def pop_loaded_state(self) -> Optional[Dict[str, Any]]:
        """Hand the loaded state over (once).

        Returns:
            dict | None: ``epoch``, ``skip``, ``iter`` and this rank's
            ``rng`` from the last loaded checkpoint.
        """
        state, self.loaded_state = self.loaded_state, None
        return state

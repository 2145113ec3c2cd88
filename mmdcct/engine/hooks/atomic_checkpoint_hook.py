"""A CheckpointHook whose files are never left half-written."""
import glob
import os
import os.path as osp
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmdcct.registry import HOOKS
from ..fileio.atomic_local_backend import TMP_SUFFIX, AtomicLocalBackend

__all__ = ['AtomicCheckpointHook']

#: Message hub key of the saved steps (the one ``CheckpointHook`` uses).
KEEP_KEY = 'keep_ckpt_ids'


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` with crash-safe checkpoints.

    ``CheckpointHook`` writes a checkpoint in place and deletes the one that
    falls out of ``max_keep_ckpts`` *before* writing the new one, so a crash
    while saving can leave a truncated ``.pth`` and a ``last_checkpoint``
    naming a deleted file. Here, on a local file system:

    1. checkpoints (also the best one) are written through the
       ``'atomic_local'`` file backend
       (:class:`mmdcct.engine.AtomicLocalBackend`): a temp file in the same
       directory, fsynced and ``os.replace``-d onto its name;
    2. ``last_checkpoint`` is then updated by ``CheckpointHook`` as usual;
    3. only then the checkpoints beyond ``max_keep_ckpts`` are deleted.

    With ``out_dir`` on another storage (object stores, whose uploads are
    atomic) or explicit ``backend_args`` / ``file_client_args``, the given
    backend is used. Temp files left by killed runs are removed before
    training. All arguments are those of ``CheckpointHook``.

    Args:
        max_keep_ckpts (int): The most recent checkpoints to keep; -1 keeps
            all. Defaults to -1.
        backend_args (dict, optional): File backend arguments. Defaults to
            ``dict(backend='atomic_local')`` for a local ``out_dir``.
        out_dir (str, optional): As in ``CheckpointHook``.
        file_client_args (dict, optional): Deprecated in ``CheckpointHook``.
        **kwargs: The other ``CheckpointHook`` arguments.
    """

    def __init__(self,
                 *args,
                 max_keep_ckpts: int = -1,
                 backend_args: Optional[dict] = None,
                 out_dir: Optional[str] = None,
                 file_client_args: Optional[dict] = None,
                 **kwargs) -> None:
        if backend_args is None and file_client_args is None and (
                out_dir is None or '://' not in str(out_dir)):
            backend_args = dict(backend='atomic_local')
        # CheckpointHook would prune before writing; pruning happens here,
        # after the write and after `last_checkpoint` (see the class docs)
        super().__init__(
            *args,
            max_keep_ckpts=-1,
            backend_args=backend_args,
            out_dir=out_dir,
            file_client_args=file_client_args,
            **kwargs)
        self.keep_ckpts = max_keep_ckpts
        self.saved_steps: List[int] = []

    def _is_atomic(self) -> bool:
        return isinstance(
            getattr(self, 'file_backend', None), AtomicLocalBackend)

    def _step_path(self, step: int) -> str:
        return self.file_backend.join_path(self.out_dir,
                                           self.filename_tmpl.format(step))

    def _prune(self, runner) -> None:
        """Delete the checkpoints beyond ``max_keep_ckpts`` (oldest first)."""
        if self.keep_ckpts <= 0 or len(self.saved_steps) <= self.keep_ckpts:
            return
        outdated = self.saved_steps[:-self.keep_ckpts]
        self.saved_steps = self.saved_steps[-self.keep_ckpts:]
        runner.message_hub.update_info(KEEP_KEY, list(self.saved_steps))
        if not is_main_process():
            return
        for step in outdated:
            path = self._step_path(step)
            if path == self.last_ckpt:
                continue
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)

    def before_train(self, runner) -> None:
        """Set up as ``CheckpointHook``, drop stale temp files and prune
        what a resumed run kept beyond ``max_keep_ckpts``."""
        super().before_train(runner)
        if self._is_atomic() and is_main_process():
            for directory in {self.out_dir, runner.work_dir}:
                pattern = osp.join(directory, f'.*{TMP_SUFFIX}*')
                for stale in glob.glob(pattern):
                    try:
                        os.remove(stale)
                    except OSError:
                        pass
        if self.keep_ckpts > 0 and KEEP_KEY in runner.message_hub.runtime_info:
            self.saved_steps = list(runner.message_hub.get_info(KEEP_KEY))
            self._prune(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Record the step being saved (in the checkpoint too, so that a
        resumed run can prune it)."""
        if self.keep_ckpts <= 0 or self.last_ckpt is None:
            return
        step = (checkpoint.get('meta')
                or {}).get('epoch' if self.by_epoch else 'iter')
        # CheckpointHook sets last_ckpt just before writing a step checkpoint;
        # the best checkpoint leaves it unchanged
        if step is None or self.last_ckpt != self._step_path(step):
            return
        if step not in self.saved_steps:
            self.saved_steps.append(step)
        runner.message_hub.update_info(KEEP_KEY, list(self.saved_steps))
        runtime_info = checkpoint.get('message_hub', {}).get('runtime_info')
        if runtime_info is not None:
            runtime_info[KEEP_KEY] = list(self.saved_steps)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        """Save as ``CheckpointHook`` does, then prune."""
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        self._prune(runner)

    def after_train_epoch(self, runner) -> None:
        """Save as ``CheckpointHook`` does, then prune."""
        super().after_train_epoch(runner)
        self._prune(runner)

    def after_val_epoch(self, runner, metrics) -> None:
        """Save the best checkpoint as ``CheckpointHook`` does, then prune."""
        super().after_val_epoch(runner, metrics)
        self._prune(runner)

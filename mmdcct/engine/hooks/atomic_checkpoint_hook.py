"""A CheckpointHook whose files are never left half-written."""
import glob
import os
import os.path as osp
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from mmdcct.registry import HOOKS

__all__ = ['AtomicCheckpointHook', 'atomic_write_text']

#: Temporary files are ``.<name>.tmp-<pid>`` next to the final file.
TMP_SUFFIX = '.tmp-'


def _fsync_path(path: str) -> None:
    """Flush a file (or directory entry) to disk, where supported."""
    flags = os.O_RDONLY
    if osp.isdir(path):
        flags |= getattr(os, 'O_DIRECTORY', 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _tmp_name(filename: str) -> str:
    return f'.{filename}{TMP_SUFFIX}{os.getpid()}'


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file and ``os.replace``.

    Args:
        path (str): Destination file.
        text (str): Content.
    """
    directory, name = osp.split(path)
    tmp = osp.join(directory, _tmp_name(name))
    with open(tmp, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_path(directory or '.')


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` with crash-safe writes.

    MMEngine 0.10.7 writes a checkpoint in place, removes the checkpoint
    that falls out of ``max_keep_ckpts`` *before* writing the new one and
    rewrites ``last_checkpoint`` in place, so a crash while saving can leave
    a truncated ``.pth``, a ``last_checkpoint`` naming a deleted file, or an
    empty ``last_checkpoint``. Here, on a local file system:

    1. the checkpoint is written to ``.<name>.tmp-<pid>`` in the same
       directory, fsynced, and ``os.replace``-d onto its name;
    2. only then ``last_checkpoint`` is replaced (also through a temp file);
    3. only then the checkpoint that fell out of ``max_keep_ckpts`` is
       deleted.

    The best checkpoint (``save_best``) is written the same way. Other
    storage backends (object stores, whose uploads are atomic) keep MMEngine's
    behaviour. Leftover temp files of killed runs are removed before
    training. All arguments are those of ``CheckpointHook``.
    """

    def before_train(self, runner) -> None:
        """Set up paths as ``CheckpointHook`` does and drop stale temps."""
        super().before_train(runner)
        if not (self._is_local() and is_main_process()):
            return
        for directory in {self.out_dir, runner.work_dir}:
            pattern = osp.join(directory, f'.*{TMP_SUFFIX}*')
            for stale in glob.glob(pattern):
                try:
                    os.remove(stale)
                except OSError:
                    pass

    def _is_local(self) -> bool:
        return isinstance(getattr(self, 'file_backend', None), LocalBackend)

    @contextmanager
    def _atomic_runner_saves(self, runner) -> Iterator[None]:
        """Make ``runner.save_checkpoint`` write through a temp file
        (re-entrant: the best-checkpoint path re-saves the latest one)."""
        if not self._is_local() or getattr(self, '_atomic_active', False):
            yield
            return
        save: Callable = runner.save_checkpoint

        def atomic_save(out_dir: str, filename: str, *args, **kwargs):
            tmp_name = _tmp_name(filename)
            save(out_dir, tmp_name, *args, **kwargs)
            if not is_main_process():  # save_checkpoint is master-only
                return
            tmp = osp.join(out_dir, tmp_name)
            _fsync_path(tmp)
            os.replace(tmp, osp.join(out_dir, filename))
            _fsync_path(out_dir)

        runner.save_checkpoint = atomic_save  # shadows the bound method
        self._atomic_active = True
        try:
            yield
        finally:
            self._atomic_active = False
            del runner.save_checkpoint

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        """Save, then point ``last_checkpoint`` at it, then prune."""
        if not self._is_local():
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated: Optional[int] = None
        if self.max_keep_ckpts > 0:
            # _save_checkpoint and _save_best_checkpoint may save the same
            # step twice in one epoch
            if not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    outdated = self.keep_ckpt_ids.popleft()
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids',
                                               list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)

        with self._atomic_runner_saves(runner):
            runner.save_checkpoint(
                self.out_dir,
                ckpt_filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)

        if not is_main_process():
            return
        atomic_write_text(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if outdated is not None and outdated != step:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(outdated))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """``CheckpointHook``'s best-checkpoint logic, written atomically."""
        with self._atomic_runner_saves(runner):
            super()._save_best_checkpoint(runner, metrics)

"""A local file backend whose writes are all-or-nothing."""
import os
import os.path as osp
from pathlib import Path
from typing import Union

import mmengine
from mmengine.fileio import LocalBackend, register_backend

__all__ = ['AtomicLocalBackend', 'TMP_SUFFIX', 'fsync_path']

#: Temporary files are ``.<name>.tmp-<pid>`` next to the final file.
TMP_SUFFIX = '.tmp-'


def fsync_path(path: str) -> None:
    """Flush a file (or directory entry) to disk, where supported.

    Args:
        path (str): A file or a directory.
    """
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


class AtomicLocalBackend(LocalBackend):
    """:class:`mmengine.fileio.LocalBackend` that never leaves a file
    half-written.

    ``put`` / ``put_text`` write ``.<name>.tmp-<pid>`` in the destination's
    directory, fsync it and ``os.replace`` it onto the name, so a reader (or
    a resumed run) sees either the previous file or the complete new one.
    Everything else is ``LocalBackend``'s. Registered as ``'atomic_local'``;
    select it with ``backend_args=dict(backend='atomic_local')``, e.g. in
    ``default_hooks.checkpoint`` (:class:`mmdcct.engine.AtomicCheckpointHook`
    does so by default for local ``out_dir``). The ``'local'`` backend is
    left as it is.
    """

    @staticmethod
    def tmp_path(filepath: Union[str, Path]) -> str:
        """The temporary file a write of ``filepath`` goes through.

        Args:
            filepath (str | Path): The destination.

        Returns:
            str: ``<dir>/.<name>.tmp-<pid>``.
        """
        directory, name = osp.split(str(filepath))
        return osp.join(directory, f'.{name}{TMP_SUFFIX}{os.getpid()}')

    def _replace(self, tmp: str, filepath: Union[str, Path]) -> None:
        fsync_path(tmp)
        os.replace(tmp, filepath)
        fsync_path(osp.dirname(osp.abspath(filepath)))

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` through a temp file + ``os.replace``.

        Args:
            obj (bytes): Data to be written.
            filepath (str | Path): Destination; its directory is created.
        """
        mmengine.mkdir_or_exist(osp.dirname(str(filepath)))
        tmp = self.tmp_path(filepath)
        try:
            super().put(obj, tmp)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise
        self._replace(tmp, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` through a temp file + ``os.replace``.

        Args:
            obj (str): Text to be written.
            filepath (str | Path): Destination; its directory is created.
            encoding (str): The encoding. Defaults to 'utf-8'.
        """
        mmengine.mkdir_or_exist(osp.dirname(str(filepath)))
        tmp = self.tmp_path(filepath)
        try:
            super().put_text(obj, tmp, encoding=encoding)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise
        self._replace(tmp, filepath)


register_backend('atomic_local', AtomicLocalBackend)

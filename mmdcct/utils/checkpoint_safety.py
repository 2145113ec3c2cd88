"""Load checkpoints weights-only: allow-list MMEngine's types, refuse the rest.

torch >= 2.6 loads checkpoints with ``weights_only=True``: only tensors,
containers and allow-listed types are unpickled, so a checkpoint cannot run
code when loaded. MMEngine 0.10.7 does not pass ``weights_only`` and its
checkpoints hold a few non-tensor objects (the message hub's
``HistoryBuffer`` with numpy arrays, numpy scalars in runtime info), so
resume / ``load_from`` fail. Instead of switching the safety off, we add
exactly those types to torch's safe globals.

One reference needs care: ``HistoryBuffer.__getstate__`` pickles its
statistics methods as ``getattr(HistoryBuffer, 'mean')`` etc. Allowing the
builtin ``getattr`` would let a checkpoint fetch any attribute of any
allow-listed object, so ``builtins.getattr`` is bound to
:func:`history_buffer_statistic`, which resolves only those four names on
``HistoryBuffer`` and refuses everything else.

:func:`install_safe_checkpoint_loading` (run when ``mmdcct`` is imported)
also routes every MMEngine checkpoint load -- ``Runner.resume``,
``load_from``, ``Pretrained`` init, ``load_checkpoint``, ``tools/test.py`` --
through :func:`safe_torch_load`, which passes ``weights_only=True``
explicitly (so ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` cannot switch it off)
and turns torch's ``UnpicklingError`` into :class:`UnsafeCheckpointError`,
naming the file, the offending global and how to opt in.

Trusted legacy files. A checkpoint that pickles other objects (e.g. an
``argparse.Namespace`` of an old training script) is loaded with
``weights_only=False`` only if it is named explicitly, per file:

- ``MMDCCT_TRUSTED_CHECKPOINTS=/path/a.pth:/path/b.pth`` (``os.pathsep``
  separated; local paths compared after ``realpath``, URLs verbatim), or
- ``with mmdcct.utils.trusted_checkpoints('/path/a.pth'): ...``.

There is no switch that trusts every file.
"""
import contextlib
import logging
import os
import os.path as osp
import pickle
import re
import threading
from typing import Any, Iterator, List, Optional, Set

import numpy as np
import torch

__all__ = [
    'HISTORY_BUFFER_STATISTICS', 'TRUSTED_CHECKPOINTS_ENV',
    'UnsafeCheckpointError', 'checkpoint_safe_globals',
    'history_buffer_statistic', 'install_safe_checkpoint_loading',
    'is_trusted_checkpoint', 'register_checkpoint_safe_globals',
    'safe_torch_load', 'trusted_checkpoints'
]


def _numpy_core():
    # numpy >= 2 moved the pickling helpers to numpy._core.
    return getattr(np, '_core', None) or np.core


#: The statistics methods ``HistoryBuffer`` registers by default.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_statistic(owner: object, name: str) -> object:
    """The only ``getattr`` a checkpoint may perform while unpickling.

    Args:
        owner (object): Must be ``mmengine``'s ``HistoryBuffer`` class.
        name (str): One of :data:`HISTORY_BUFFER_STATISTICS`.

    Returns:
        The unbound statistics method.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if owner is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({owner!r}, {name!r}) while loading a checkpoint: '
        'only HistoryBuffer statistics methods are allowed.')


def checkpoint_safe_globals() -> List[object]:
    """The non-tensor types found in MMEngine 0.10.x checkpoints.

    Returns:
        list: Classes and functions for
        :func:`torch.serialization.add_safe_globals`.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    core = _numpy_core()
    numeric_dtypes = [
        type(np.dtype(t))
        for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                  np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                  np.float64)
    ]
    return [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        core.multiarray._reconstruct,
        core.multiarray.scalar,
        *numeric_dtypes,
        (history_buffer_statistic, 'builtins.getattr'),
    ]


def register_checkpoint_safe_globals() -> None:
    """Add :func:`checkpoint_safe_globals` to torch's weights-only unpickler.

    Idempotent; a no-op on torch versions without ``add_safe_globals``.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return
    known = torch.serialization.get_safe_globals()
    new = [g for g in checkpoint_safe_globals() if g not in known]
    if new:
        add_safe_globals(new)


#: Environment variable listing trusted legacy checkpoint files.
TRUSTED_CHECKPOINTS_ENV = 'MMDCCT_TRUSTED_CHECKPOINTS'

_trusted_lock = threading.Lock()
_trusted_in_context: List[str] = []
_URL_RE = re.compile(r'^[a-zA-Z][\w+.-]*://')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint pickles an object outside the weights-only allow-list.

    Args:
        filename (str): The checkpoint.
        offending (str, optional): The refused global (``module.name``).
        detail (str): torch's (or our) original message.
    """

    def __init__(self,
                 filename: str,
                 offending: Optional[str] = None,
                 detail: str = '') -> None:
        self.filename = filename
        self.offending = offending
        self.detail = detail
        what = (f"it pickles the global '{offending}'"
                if offending else 'it pickles an object')
        trusted = _normalise(filename)
        super().__init__(
            f"Refusing to load checkpoint '{filename}': {what}, which is not "
            'one of the types MMEngine checkpoints contain (tensors, '
            'containers, numpy arrays/scalars, HistoryBuffer), and unpickling '
            'it could run arbitrary code. Only if you trust this file, opt in '
            f'for it explicitly: {TRUSTED_CHECKPOINTS_ENV}={trusted} (an '
            f"'{os.pathsep}'-separated list of files) or `with "
            f'mmdcct.utils.trusted_checkpoints({trusted!r}): ...`. '
            f'(torch: {_first_line(detail)})')


def _first_line(detail: str) -> str:
    """The informative line of torch's weights-only error message."""
    for line in detail.splitlines():
        if 'GLOBAL' in line or 'Unsupported' in line or 'Refusing' in line:
            return line.strip()
    return detail.strip().splitlines()[0] if detail.strip() else ''


def _offending_global(detail: str) -> Optional[str]:
    """Extract ``module.name`` from torch's weights-only error message."""
    match = re.search(r'GLOBAL ([\w.]+)', detail)
    if match:
        return match.group(1)
    return 'builtins.getattr' if 'Refusing getattr(' in detail else None


def _normalise(filename: str) -> str:
    """Canonical form used to compare trusted files (realpath or URL)."""
    filename = str(filename)
    if _URL_RE.match(filename):
        return filename
    return osp.realpath(osp.expanduser(filename))


def _trusted_from_env() -> Set[str]:
    value = os.environ.get(TRUSTED_CHECKPOINTS_ENV, '')
    return {_normalise(p) for p in value.split(os.pathsep) if p.strip()}


def is_trusted_checkpoint(filename: str) -> bool:
    """Whether ``filename`` was opted in as a trusted legacy checkpoint.

    Args:
        filename (str): Local path or URL.

    Returns:
        bool: True if it is named in ``MMDCCT_TRUSTED_CHECKPOINTS`` or in an
        active :func:`trusted_checkpoints` block.
    """
    name = _normalise(filename)
    with _trusted_lock:
        if name in _trusted_in_context:
            return True
    return name in _trusted_from_env()


@contextlib.contextmanager
def trusted_checkpoints(*filenames: str) -> Iterator[None]:
    """Trust the named legacy checkpoints (full unpickling) in this block.

    Only the listed files are affected; every other checkpoint is still
    loaded weights-only.

    Example:
        >>> with trusted_checkpoints('legacy/epoch_10.pth'):
        ...     runner.load_checkpoint('legacy/epoch_10.pth')

    Args:
        *filenames (str): Local paths or URLs, at least one.

    Raises:
        ValueError: If no file is named.
    """
    if not filenames or not all(filenames):
        raise ValueError('trusted_checkpoints() needs the checkpoint files to '
                         'trust; there is no way to trust every file.')
    names = [_normalise(f) for f in filenames]
    with _trusted_lock:
        _trusted_in_context.extend(names)
    try:
        yield
    finally:
        with _trusted_lock:
            for name in names:
                _trusted_in_context.remove(name)


def safe_torch_load(f: Any,
                    map_location: Any = None,
                    filename: Optional[str] = None) -> Any:
    """``torch.load`` with ``weights_only=True`` unless the file is trusted.

    Args:
        f: A path or a file-like object.
        map_location: As for :func:`torch.load`.
        filename (str, optional): The name used for trust and messages when
            ``f`` is a file object. Defaults to ``f``.

    Returns:
        The unpickled checkpoint.

    Raises:
        UnsafeCheckpointError: If the checkpoint pickles a refused global.
    """
    name = str(filename if filename is not None else f)
    if is_trusted_checkpoint(name):
        from mmengine.logging import print_log
        print_log(
            f'Loading trusted checkpoint {name} with weights_only=False '
            f'(opted in via {TRUSTED_CHECKPOINTS_ENV} / trusted_checkpoints).',
            logger='current',
            level=logging.WARNING)
        return torch.load(f, map_location=map_location, weights_only=False)
    try:
        return torch.load(f, map_location=map_location, weights_only=True)
    except UnsafeCheckpointError:
        raise
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(name, _offending_global(str(err)),
                                    str(err)) from err


def _load_from_local(filename: str, map_location: Any = None) -> Any:
    """MMEngine's local-file scheme, weights-only (see module docs)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


def _load_from_http(filename: str,
                    map_location: Any = None,
                    model_dir: Optional[str] = None,
                    progress: bool = False) -> Any:
    """MMEngine's http(s) scheme, weights-only; rank 0 downloads first."""
    from mmengine.dist import get_dist_info
    from torch.hub import load_state_dict_from_url

    def load() -> Any:
        try:
            return load_state_dict_from_url(
                filename,
                model_dir=model_dir,
                map_location=map_location,
                progress=progress,
                weights_only=not is_trusted_checkpoint(filename))
        except UnsafeCheckpointError:
            raise
        except pickle.UnpicklingError as err:
            raise UnsafeCheckpointError(filename, _offending_global(str(err)),
                                        str(err)) from err

    rank, world_size = get_dist_info()
    if rank == 0:
        checkpoint = load()
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = load()
    return checkpoint


# MMEngine derives the log line "Loads checkpoint by <x> backend" from the
# function name after ``load_from_``.
_load_from_local.__name__ = 'load_from_local'
_load_from_http.__name__ = 'load_from_http'


def install_safe_checkpoint_loading() -> None:
    """Allow-list MMEngine's types and load every checkpoint weights-only.

    Registers :func:`checkpoint_safe_globals`, replaces MMEngine's local and
    http(s) checkpoint schemes (``torchvision://`` / ``open-mmlab://`` use the
    latter) with weights-only loaders, and wraps
    ``CheckpointLoader.load_checkpoint`` so that a refused global raises
    :class:`UnsafeCheckpointError` whatever the scheme. Idempotent.
    """
    register_checkpoint_safe_globals()
    from mmengine.runner import checkpoint as mmengine_checkpoint
    loader_cls = mmengine_checkpoint.CheckpointLoader
    if getattr(loader_cls, '_mmdcct_safe', False):
        return
    loader_cls.register_scheme('', _load_from_local, force=True)
    loader_cls.register_scheme(('http://', 'https://'),
                               _load_from_http,
                               force=True)
    mmengine_checkpoint.load_from_http = _load_from_http
    original = loader_cls.__dict__['load_checkpoint'].__func__

    def load_checkpoint(cls,
                        filename: str,
                        map_location: Any = None,
                        logger: str = 'current') -> Any:
        try:
            return original(cls, filename, map_location, logger)
        except UnsafeCheckpointError:
            raise
        except pickle.UnpicklingError as err:
            raise UnsafeCheckpointError(
                str(filename), _offending_global(str(err)), str(err)) from err

    load_checkpoint.__doc__ = original.__doc__
    loader_cls.load_checkpoint = classmethod(load_checkpoint)
    loader_cls._mmdcct_safe = True

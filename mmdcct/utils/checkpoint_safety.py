"""Load checkpoints weights-only: allow-list MMEngine's types, refuse the rest.

torch >= 2.6 loads checkpoints with ``weights_only=True``: only tensors,
containers and allow-listed types are unpickled, so a checkpoint cannot run
code when loaded. MMEngine 0.10.7 does not pass ``weights_only`` and its
checkpoints hold a few non-tensor objects (the message hub's
``HistoryBuffer`` with numpy arrays, numpy scalars in runtime info), so
resume / ``load_from`` fail. Instead of switching the safety off, exactly
those types are allow-listed (:func:`checkpoint_safe_globals`).

One reference needs care: ``HistoryBuffer.__getstate__`` pickles its
statistics methods as ``getattr(HistoryBuffer, 'mean')`` etc. Allowing the
builtin ``getattr`` would let a checkpoint fetch any attribute of any
allow-listed object, so ``builtins.getattr`` is bound to
:func:`history_buffer_statistic`, which resolves only those four names on
``HistoryBuffer`` and refuses everything else.

Importing this module changes nothing in the process. Two ways to use it:

- :func:`install_safe_checkpoint_loading` -- the process-wide switch for
  entry points (``tools/*.py`` call it first thing): registers weights-only
  loaders for MMEngine's local, http(s), ``torchvision://`` and
  ``open-mmlab://`` schemes with the public
  ``CheckpointLoader.register_scheme``, so ``Runner.resume``, ``load_from``,
  ``Pretrained`` init and ``load_checkpoint`` all load weights-only, and
  adds the allow-list to torch's safe globals. Idempotent.
- :func:`safe_load_checkpoint` / :func:`load_checkpoint_file` -- scoped, for
  library code (``mmdcct.apis.init_model``, the inferencer): the same
  loaders, the allow-list active only during the call.

Both pass ``weights_only=True`` explicitly (so
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` cannot switch it off) and turn torch's
``UnpicklingError`` into :class:`UnsafeCheckpointError`, naming the file,
the offending global and how to opt in. A local file that is empty,
truncated or not a PyTorch checkpoint at all raises
:class:`CheckpointFileError` naming the file instead (never the "unsafe"
message, and never a bare ``EOFError``).

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
import pickletools
import re
import threading
import zipfile
from collections import OrderedDict
from typing import (Any, Callable, Iterator, List, Optional, Sequence, Set,
                    Tuple)

import numpy as np
import torch

__all__ = [
    'HISTORY_BUFFER_STATISTICS', 'TRUSTED_CHECKPOINTS_ENV',
    'CheckpointDownloadError', 'CheckpointFileError',
    'UnsafeCheckpointError', 'checkpoint_allow_list',
    'checkpoint_safe_globals', 'history_buffer_statistic',
    'install_safe_checkpoint_loading', 'is_trusted_checkpoint',
    'load_checkpoint_file', 'register_checkpoint_safe_globals',
    'safe_load_checkpoint', 'safe_torch_load', 'trusted_checkpoints'
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
    """Add :func:`checkpoint_safe_globals` to torch's weights-only unpickler
    for the whole process (part of :func:`install_safe_checkpoint_loading`).

    Idempotent; a no-op on torch versions without ``add_safe_globals``.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return
    known = torch.serialization.get_safe_globals()
    new = [g for g in checkpoint_safe_globals() if g not in known]
    if new:
        add_safe_globals(new)


@contextlib.contextmanager
def checkpoint_allow_list() -> Iterator[None]:
    """Allow-list :func:`checkpoint_safe_globals` inside this block only.

    Entries torch already allows stay allowed afterwards; only those added
    here are removed again. A no-op on torch versions without
    ``torch.serialization.safe_globals``.

    Example:
        >>> with checkpoint_allow_list():
        ...     ckpt = torch.load('epoch_1.pth', weights_only=True)
    """
    scoped = getattr(torch.serialization, 'safe_globals', None)
    if scoped is None:
        yield
        return
    known = torch.serialization.get_safe_globals()
    missing = [g for g in checkpoint_safe_globals() if g not in known]
    if not missing:
        yield
        return
    with scoped(missing):
        yield


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


class CheckpointFileError(RuntimeError):
    """A checkpoint file is empty, truncated/corrupt or not a checkpoint.

    A ``RuntimeError`` like torch's own "file might be corrupted" error.

    Args:
        filename (str): The checkpoint.
        message (str): What is wrong and how to fix it.
    """

    def __init__(self, filename: str, message: str) -> None:
        self.filename = filename
        super().__init__(message)


class CheckpointDownloadError(RuntimeError):
    """A checkpoint URL could not be downloaded (offline, HTTP error, ...).

    The message names the URL, the config keys that hold it (when known),
    where to put the file for offline use and how to train without it.

    Args:
        url (str): The URL that failed.
        reason (str): The underlying error.
        keys (Sequence[str]): Config keys holding the URL (e.g.
            ``'model.backbone.cnn.init_cfg.checkpoint'``), if known.
    """

    def __init__(self, url: str, reason: str,
                 keys: Sequence[str] = ()) -> None:
        self.url = url
        self.reason = reason
        self.keys = tuple(keys)
        super().__init__(self._message())

    def with_keys(self, keys: Sequence[str]) -> 'CheckpointDownloadError':
        """The same error, naming the config keys that hold the URL."""
        return CheckpointDownloadError(self.url, self.reason, keys)

    def _message(self) -> str:
        from torch.hub import get_dir
        file = osp.basename(self.url.split('?', 1)[0])
        cached = osp.join(get_dir(), 'checkpoints', file)
        local = f"'/path/to/{file}'"
        inits = [
            k[:-len('.checkpoint')] for k in self.keys
            if k.endswith('init_cfg.checkpoint')
        ]
        if self.keys:
            held = ', set by ' + ' and '.join(self.keys)
            point = f'set {self.keys[0]}={local}'
        else:
            held = ''
            point = ('point the init_cfg.checkpoint (or load_from) that '
                     f'holds it at {local}')
        if inits:
            skip = '--cfg-options ' + ' '.join(f'{k}=None' for k in inits)
        elif self.keys:
            skip = f'set {self.keys[0]} to None'
        else:
            skip = ('--cfg-options <the model key>.init_cfg=None, e.g. '
                    'model.backbone.cnn.init_cfg=None')
        return (f'Could not download the checkpoint {self.url}{held} '
                f'({self.reason}).\n'
                '  Offline: download it where there is internet and copy it '
                f'to {cached} (torch.hub reads that cache before '
                'downloading; $TORCH_HOME moves it), or '
                f"{point} (after the 'timm-vit://' prefix if the value has "
                f"one: 'timm-vit:///path/to/{file}').\n"
                f'  Without these weights (from scratch): {skip}')


#: ``torch.save`` writes a zip archive, or (legacy) a pickle stream starting
#: with the pickled magic number 0x1950a86a20f9469cfc6c; very old files are
#: tar archives ("ustar" at offset 257).
_ZIP_MAGIC = b'PK\x03\x04'
_LEGACY_MAGIC = b'\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19'


def _checkpoint_format(head: bytes) -> Optional[str]:
    """``'zip'``, ``'legacy'``, ``'tar'``, ``'truncated'`` or None."""
    for magic, kind in ((_ZIP_MAGIC, 'zip'), (_LEGACY_MAGIC, 'legacy')):
        if head.startswith(magic):
            return kind
        if len(head) < len(magic) and magic.startswith(head):
            return 'truncated'
    if head[257:262] == b'ustar':
        return 'tar'
    return None


def _corrupt(name: str) -> CheckpointFileError:
    return CheckpointFileError(
        name, f'checkpoint {name} is truncated or corrupt (not a complete '
        'torch zip/pickle): re-download or re-save it.')


def _check_checkpoint_file(path: str, name: str) -> Optional[str]:
    """Reject an empty or non-PyTorch file before unpickling anything.

    Returns:
        str | None: The format (see :func:`_checkpoint_format`).
    """
    if not osp.isfile(path):
        return None  # the loaders report a missing file
    if osp.getsize(path) == 0:
        raise CheckpointFileError(
            name, f'checkpoint {name} is empty (0 bytes): it was not written '
            'or downloaded completely; re-download or re-save it.')
    with open(path, 'rb') as f:
        head = f.read(512)
    kind = _checkpoint_format(head)
    if kind == 'truncated':
        raise _corrupt(name)
    if kind is None:
        raise CheckpointFileError(
            name, f'{name} is not a PyTorch checkpoint (it starts with '
            f'{head[:8]!r}, neither a torch.save zip archive nor a torch '
            'pickle): check the path, or that a download did not save an '
            'error page instead of the file.')
    return kind


def _legacy_truncated(path: str) -> bool:
    """Whether a legacy torch pickle stream ends inside one of its pickles.

    Only walks the opcodes (``pickletools``), never unpickles.
    """
    with open(path, 'rb') as f:
        try:
            # magic number, protocol, sys info, the object, storage keys
            for _ in range(5):
                for _ in pickletools.genops(f):
                    pass
        except Exception:
            return True
    return False


def _diagnose_unreadable(path: str, name: str, kind: Optional[str],
                         err: Exception) -> Optional[CheckpointFileError]:
    """The :class:`CheckpointFileError` for a file torch failed to read, or
    None if the file itself looks complete (the original error stands)."""
    if kind == 'zip':
        if not zipfile.is_zipfile(path):
            return _corrupt(name)
        try:
            with zipfile.ZipFile(path) as archive:
                members = archive.namelist()
                if not any(m.endswith('data.pkl') for m in members):
                    return CheckpointFileError(
                        name, f'{name} is not a PyTorch checkpoint (a zip '
                        'archive without data.pkl): check the path.')
                if archive.testzip() is not None:
                    return _corrupt(name)
        except (zipfile.BadZipFile, OSError, EOFError):
            return _corrupt(name)
        return None
    if kind == 'legacy' and (isinstance(err, EOFError)
                             or 'unexpected EOF' in str(err)
                             or _legacy_truncated(path)):
        return _corrupt(name)
    return None


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
        CheckpointFileError: If ``f`` is a path to a file that is empty,
            truncated or corrupt, or not a PyTorch checkpoint.
    """
    name = str(filename if filename is not None else f)
    path = f if isinstance(f, (str, os.PathLike)) else None
    kind = _check_checkpoint_file(path, name) if path is not None else None
    try:
        if is_trusted_checkpoint(name):
            from mmengine.logging import print_log
            print_log(
                f'Loading trusted checkpoint {name} with weights_only=False '
                f'(opted in via {TRUSTED_CHECKPOINTS_ENV} / '
                'trusted_checkpoints).',
                logger='current',
                level=logging.WARNING)
            return torch.load(
                f, map_location=map_location, weights_only=False)
        try:
            with checkpoint_allow_list():
                return torch.load(
                    f, map_location=map_location, weights_only=True)
        except UnsafeCheckpointError:
            raise
        except pickle.UnpicklingError as err:
            raise UnsafeCheckpointError(name, _offending_global(str(err)),
                                        str(err)) from err
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except Exception as err:
        # a cut-off file can fail anywhere, even in a GLOBAL opcode (then
        # it looks "unsafe"): blame the file when it is incomplete
        diagnosis = (
            _diagnose_unreadable(path, name, kind, err)
            if path is not None else None)
        if diagnosis is not None:
            raise diagnosis from err
        raise


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
    """MMEngine's http(s) scheme, weights-only; rank 0 downloads first.

    A failed download raises :class:`CheckpointDownloadError`. In a
    distributed run rank 0 tells the other ranks whether it succeeded, so
    they raise the same error instead of dying in a barrier with a "connection
    closed by peer" error of the process group.
    """
    from mmengine.dist import broadcast_object_list, get_dist_info
    from torch.hub import load_state_dict_from_url

    def load() -> Any:
        try:
            with checkpoint_allow_list():
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
        except OSError as err:  # URLError, HTTPError, timeouts, disk
            raise CheckpointDownloadError(
                filename, f'{type(err).__name__}: {err}') from None

    rank, world_size = get_dist_info()
    checkpoint, failure = None, None
    if rank == 0:
        try:
            checkpoint = load()
        except Exception as err:
            failure = err
    if world_size > 1:
        status = [None if failure is None else
                  (isinstance(failure, CheckpointDownloadError),
                   getattr(failure, 'reason', str(failure)))]
        broadcast_object_list(status, src=0)
        if rank > 0 and status[0] is not None:
            is_download, reason = status[0]
            if is_download:
                raise CheckpointDownloadError(filename, reason)
            raise RuntimeError(f'rank 0 failed to load {filename}: {reason}')
        if rank > 0:
            checkpoint = load()
    if failure is not None:
        raise failure
    return checkpoint


def _mmengine_home() -> str:
    """Where MMEngine keeps ``open_mmlab.json`` and the models it names."""
    cache = os.getenv('XDG_CACHE_HOME', osp.join('~', '.cache'))
    return osp.expanduser(
        os.getenv('MMENGINE_HOME', osp.join(cache, 'mmengine')))


def _load_from_model_zoo(filename: str, map_location: Any = None) -> Any:
    """``torchvision://``, ``modelzoo://``, ``open-mmlab://``,
    ``openmmlab://`` and ``mmcls://`` names, weights-only.

    MMEngine's own loaders for these schemes download through
    ``torch.hub`` with ``weights_only=False``; the names are resolved with
    MMEngine's model tables and loaded by the weights-only loaders above.
    """
    from mmengine.runner.checkpoint import (get_deprecated_model_names,
                                            get_external_models,
                                            get_mmcls_models,
                                            get_torchvision_models)
    scheme, name = filename.split('://', 1)
    if scheme in ('torchvision', 'modelzoo'):
        return _load_from_http(
            get_torchvision_models()[name], map_location=map_location)
    if scheme == 'mmcls':
        checkpoint = _load_from_http(
            get_mmcls_models()[name], map_location=map_location)
        state_dict = checkpoint.get('state_dict', checkpoint)
        # as MMEngine does: mmcls classifiers -> their backbone weights
        return dict(
            state_dict=OrderedDict((k[len('backbone.'):], v)
                                   for k, v in state_dict.items()
                                   if k.startswith('backbone.')))
    name = get_deprecated_model_names().get(name, name)
    url = get_external_models()[name]
    if url.startswith(('http://', 'https://')):
        return _load_from_http(url, map_location=map_location)
    return _load_from_local(
        osp.join(_mmengine_home(), url), map_location=map_location)


# MMEngine derives the log line "Loads checkpoint by <x> backend" from the
# function name after ``load_from_``.
_load_from_local.__name__ = 'load_from_local'
_load_from_http.__name__ = 'load_from_http'
_load_from_model_zoo.__name__ = 'load_from_model_zoo'

#: ``(prefixes, loader)`` registered by
#: :func:`install_safe_checkpoint_loading` (most specific first).
SAFE_SCHEMES: Tuple[Tuple[Tuple[str, ...], Callable], ...] = (
    (('torchvision://', 'modelzoo://', 'open-mmlab://', 'openmmlab://',
      'mmcls://'), _load_from_model_zoo),
    (('http://', 'https://'), _load_from_http),
    (('', ), _load_from_local),
)


def install_safe_checkpoint_loading() -> None:
    """Load every MMEngine checkpoint of this process weights-only.

    The switch for entry points (our ``tools/*.py`` call it first; other
    projects may call it too). Registers the weights-only loaders of
    :data:`SAFE_SCHEMES` with MMEngine's public
    ``CheckpointLoader.register_scheme(..., force=True)`` -- so
    ``Runner.resume``, ``load_from``, ``Pretrained`` init and
    ``mmengine.runner.load_checkpoint`` refuse code-running checkpoints with
    :class:`UnsafeCheckpointError` -- and adds
    :func:`checkpoint_safe_globals` to torch's safe globals (so a plain
    ``torch.load(..., weights_only=True)`` of an MMEngine checkpoint works).
    Other schemes (``s3://``, ``pavi://``) keep MMEngine's loaders.
    Idempotent. Library code that must not change the process uses
    :func:`safe_load_checkpoint` instead.
    """
    from mmengine.runner import CheckpointLoader
    register_checkpoint_safe_globals()
    for prefixes, loader in SAFE_SCHEMES:
        CheckpointLoader.register_scheme(list(prefixes), loader, force=True)


def load_checkpoint_file(filename: str,
                         map_location: Any = None,
                         logger: str = 'current') -> Any:
    """Load a checkpoint weights-only without changing the process.

    Local paths, http(s) URLs and the model-zoo schemes of
    :data:`SAFE_SCHEMES` go through the weights-only loaders; any other
    scheme goes through MMEngine's ``CheckpointLoader`` with the allow-list
    active for this call only.

    Args:
        filename (str): Local path or URI.
        map_location: As for :func:`torch.load`.
        logger (str): The logger for the "loads checkpoint" message.

    Returns:
        dict: The checkpoint.

    Raises:
        UnsafeCheckpointError: If the checkpoint pickles a refused global.
    """
    from mmengine.logging import print_log
    from mmengine.runner import CheckpointLoader
    filename = str(filename)
    for prefixes, loader in SAFE_SCHEMES:
        if prefixes == ('', ):
            matches = '://' not in filename  # a local path
        else:
            matches = filename.startswith(prefixes)
        if matches:
            print_log(
                f'Loads checkpoint weights-only from path: {filename}',
                logger=logger)
            return loader(filename, map_location)
    try:
        with checkpoint_allow_list():
            return CheckpointLoader.load_checkpoint(filename, map_location,
                                                    logger)
    except UnsafeCheckpointError:
        raise
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(filename, _offending_global(str(err)),
                                    str(err)) from err


def safe_load_checkpoint(
    model: torch.nn.Module,
    filename: str,
    map_location: Any = None,
    strict: bool = False,
    logger: str = 'current',
    revise_keys: Sequence[Tuple[str, str]] = ((r'^module\.', ''), )
) -> Any:
    """``mmengine.runner.load_checkpoint``, weights-only, process unchanged.

    Args:
        model (nn.Module): The model to load the weights into.
        filename (str): Local path or URI (see :func:`load_checkpoint_file`).
        map_location: As for :func:`torch.load`.
        strict (bool): Whether the keys must match exactly.
        logger (str): The logger for messages.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            applied to every key with :func:`re.sub`; by default the
            ``module.`` prefix of wrapped models is removed.

    Returns:
        dict: The checkpoint.
    """
    from mmengine.runner import load_state_dict
    checkpoint = load_checkpoint_file(filename, map_location, logger)
    state_dict = checkpoint.get('state_dict', checkpoint)
    metadata = getattr(state_dict, '_metadata', OrderedDict())
    for pattern, replacement in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, replacement, k), v)
                                 for k, v in state_dict.items())
    state_dict._metadata = metadata
    load_state_dict(model, state_dict, strict, logger)
    return checkpoint

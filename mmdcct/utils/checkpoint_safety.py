"""Allow-list the exact types MMEngine checkpoints pickle.

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
"""
import pickle
from typing import List

import numpy as np
import torch


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
        type(np.dtype(t)) for t in (np.bool_, np.int8, np.int16, np.int32,
                                    np.int64, np.uint8, np.uint16, np.uint32,
                                    np.uint64, np.float16, np.float32,
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

"""Capture and restore the global random number generators of a process.

The states are stored as plain Python / tensor objects, so a checkpoint that
carries them still loads with ``torch.load(weights_only=True)``.
"""
import random
from typing import Any, Dict

import numpy as np
import torch

__all__ = ['get_random_state', 'set_random_state']


def get_random_state() -> Dict[str, Any]:
    """The states of Python's, numpy's and torch's (CPU, CUDA) global RNGs.

    Returns:
        dict: ``python`` (``random.getstate()``), ``numpy`` (the legacy
        ``np.random.get_state()`` tuple with the key array as a list),
        ``torch`` (``torch.get_rng_state()``) and ``cuda`` (one state per
        visible device, empty without CUDA).
    """
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    cuda = []
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = [s.clone() for s in torch.cuda.get_rng_state_all()]
    return dict(
        python=random.getstate(),
        numpy=(name, keys.tolist(), int(pos), int(has_gauss),
               float(cached_gaussian)),
        torch=torch.get_rng_state().clone(),
        cuda=cuda)


def set_random_state(state: Dict[str, Any]) -> None:
    """Restore states captured by :func:`get_random_state`.

    The CUDA states are restored only when as many devices are visible as
    were captured.

    Args:
        state (dict): The output of :func:`get_random_state` (possibly after
            a save / load round trip, which turns tuples into lists).
    """
    version, internal, gauss_next = state['python']
    random.setstate((version, tuple(internal), gauss_next))
    name, keys, pos, has_gauss, cached_gaussian = state['numpy']
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), int(pos),
                         int(has_gauss), float(cached_gaussian)))
    torch.set_rng_state(torch.as_tensor(state['torch'], dtype=torch.uint8))
    cuda = state.get('cuda') or []
    if cuda and torch.cuda.is_available() and len(
            cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)

"""Engine components: hooks, loops and optimiser helpers (``mmdcct.registry``
HOOKS / LOOPS / OPTIM_WRAPPERS)."""

__all__ = []

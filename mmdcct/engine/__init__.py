"""Engine components: hooks, loops, optimiser helpers (``mmdcct.registry``
HOOKS / LOOPS / OPTIM_WRAPPERS) and the ``'atomic_local'`` file backend."""
from .fileio import *  # noqa: F401,F403
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403

__all__ = [
    'AtomicLocalBackend', 'AutocastOptimWrapper', 'AtomicCheckpointHook',
    'CheckInvalidLossTermsHook', 'NumClassesCheckHook',
    'ResumableEpochBasedTrainLoop', 'ResumeStateHook',
    'VideoReIDVisualizationHook'
]

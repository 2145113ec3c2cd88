"""Engine components: hooks, loops and optimiser helpers (``mmdcct.registry``
HOOKS / LOOPS / OPTIM_WRAPPERS)."""
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403

__all__ = [
    'AutocastOptimWrapper', 'AtomicCheckpointHook',
    'CheckInvalidLossTermsHook', 'NumClassesCheckHook',
    'ResumableEpochBasedTrainLoop', 'ResumeStateHook'
]

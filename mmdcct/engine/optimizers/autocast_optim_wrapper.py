"""Mixed precision without loss scaling (bfloat16 autocast), CPU included."""
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmdcct.registry import OPTIM_WRAPPERS

__all__ = ['AutocastOptimWrapper']


def _model_device_type(model: nn.Module) -> str:
    """``'cuda'`` / ``'cpu'`` / ... of the (possibly wrapped) model."""
    for param in model.parameters():
        return param.device.type
    return 'cpu'


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Optimizer wrapper that runs the forward pass under
    :func:`torch.autocast` with ``bfloat16``, on any device.

    MMEngine's ``AmpOptimWrapper`` is the float16 + loss-scaling recipe and
    refuses to build without CUDA/NPU/MLU/MUSA. ``bfloat16`` keeps float32's
    exponent range, so it needs no loss scaling and runs on the CPU too
    (autocast on the CPU uses oneDNN's bf16 kernels; they are fast on CPUs
    with AVX512-BF16/AMX and may be slower than float32 elsewhere — measure
    with ``tools/analysis_tools/benchmark.py model``). ``tools/train.py
    --amp`` picks ``AmpOptimWrapper`` when CUDA is available and this
    wrapper otherwise. Parameters, gradients and optimizer states stay
    float32; only autocast-eligible ops (matmul, conv, ...) run in bf16.

    Args:
        dtype (str | torch.dtype): Autocast dtype; only ``'bfloat16'`` —
            float16 needs loss scaling, use ``AmpOptimWrapper`` for it.
            Defaults to ``'bfloat16'``.
        **kwargs: The arguments of :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs) -> None:
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        if dtype != torch.bfloat16:
            raise ValueError(
                'AutocastOptimWrapper: dtype must be bfloat16; float16 '
                "training needs loss scaling: use type='AmpOptimWrapper' "
                '(CUDA) instead.')
        super().__init__(**kwargs)
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of the parent plus autocast.

        Args:
            model (nn.Module): The training model.
        """
        with super().optim_context(model), torch.autocast(
                device_type=_model_device_type(model), dtype=self.cast_dtype):
            yield

"""Activation (gradient) checkpointing of named submodules."""
import contextlib
from operator import attrgetter
from typing import Iterator, Sequence, Union

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint

__all__ = ['turn_on_activation_checkpointing', 'CheckpointedForward']


class CheckpointedForward:
    """Replacement ``forward`` of a module that recomputes its activations.

    In training with autograd enabled the module runs under
    :func:`torch.utils.checkpoint.checkpoint` (non-reentrant: gradients reach
    the parameters even when the input does not require grad, and keyword
    arguments pass through); otherwise it is the plain forward. Batch-norm
    layers inside update their running statistics once per step, not again
    when the backward pass recomputes the forward. It holds the
    module itself rather than a bound method so that ``copy.deepcopy`` (EMA,
    model averaging) gives the copy a forward of its own, and it pickles.

    Args:
        module (nn.Module): The module whose forward is checkpointed.
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module

    def __call__(self, *args, **kwargs):
        forward = type(self.module).forward.__get__(self.module)
        if self.module.training and torch.is_grad_enabled():
            return checkpoint(
                forward,
                *args,
                use_reentrant=False,
                context_fn=self._contexts,
                **kwargs)
        return forward(*args, **kwargs)

    def _contexts(self):
        """(forward context, recomputation context) for ``checkpoint``."""
        return contextlib.nullcontext(), _frozen_bn_statistics(self.module)


@contextlib.contextmanager
def _frozen_bn_statistics(module: nn.Module) -> Iterator[None]:
    """Make the batch-norm layers of ``module`` leave their running
    statistics (and batch counters) untouched; outputs are unaffected since
    training-mode BN normalises with the batch statistics."""
    saved = []
    for bn in module.modules():
        if isinstance(bn, _BatchNorm) and bn.track_running_stats:
            saved.append((bn, bn.momentum, bn.num_batches_tracked.clone()))
            bn.momentum = 0.0
    try:
        yield
    finally:
        for bn, momentum, num_batches in saved:
            bn.momentum = momentum
            bn.num_batches_tracked.copy_(num_batches)


def turn_on_activation_checkpointing(
        model: nn.Module, modules: Union[str, Sequence[str]]) -> list:
    """Checkpoint the activations of submodules of ``model``.

    Unlike ``mmengine.runner.turn_on_activation_checkpointing`` (reentrant
    checkpointing: a checkpointed module whose input needs no grad gets no
    parameter gradients), this uses the non-reentrant variant and leaves
    evaluation untouched. Trades memory for a second forward of each module
    in the backward pass; outputs and gradients are unchanged.

    Args:
        model (nn.Module): The model.
        modules (str | Sequence[str]): Dotted names of submodules, e.g.
            ``'backbone.transformer.layers'``. A ``ModuleList`` /
            ``Sequential`` name means each of its children (one checkpoint
            per transformer layer).

    Returns:
        list[str]: The names of the modules now checkpointed.
    """
    if isinstance(modules, str):
        modules = [modules]
    done = []
    for name in modules:
        try:
            module = attrgetter(name)(model)
        except AttributeError:
            raise ValueError(
                f'activation_checkpointing: {type(model).__name__} has no '
                f'submodule {name!r}') from None
        if not isinstance(module, nn.Module):
            raise ValueError(f'activation_checkpointing: {name!r} is a '
                             f'{type(module).__name__}, not an nn.Module')
        if isinstance(module, (nn.ModuleList, nn.Sequential)):
            targets = [(f'{name}.{child_name}', child)
                       for child_name, child in module.named_children()]
        else:
            targets = [(name, module)]
        for target_name, target in targets:
            if not isinstance(target.__dict__.get('forward'),
                              CheckpointedForward):
                target.forward = CheckpointedForward(target)
            done.append(target_name)
    return done

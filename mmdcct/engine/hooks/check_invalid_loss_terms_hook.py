"""Stop training at the first NaN / Inf loss term, naming it."""
import math
from typing import Optional, Sequence

import torch
from mmengine.hooks import Hook

from mmdcct.registry import HOOKS


@HOOKS.register_module()
class CheckInvalidLossTermsHook(Hook):
    """Raise as soon as any logged loss term is NaN or infinite.

    MMEngine's ``CheckInvalidLossHook`` only looks at the total loss every
    ``interval`` iterations. This hook checks every ``loss*`` entry of the
    iteration's log variables and names the first bad term, the epoch and
    the iteration. Its priority is above the checkpoint hook's, so the
    iteration that produced the bad loss is never checkpointed: the last
    good checkpoint on disk stays intact.

    Args:
        interval (int): Check every ``interval`` iterations. Defaults to 1.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, interval: int = 1) -> None:
        self.interval = interval

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Check the loss terms of this iteration.

        Raises:
            FloatingPointError: If a loss term is NaN or infinite.
        """
        if not outputs or not self.every_n_train_iters(runner, self.interval):
            return
        bad = self._invalid_terms(outputs)
        if bad:
            name, value = bad[0]
            last = runner.message_hub.get_info('last_ckpt')
            raise FloatingPointError(
                f'Loss term "{name}" is {value} at iteration '
                f'{runner.iter + 1} (epoch {runner.epoch + 1}); training '
                f'stopped. Invalid terms: {[n for n, _ in bad]}. The last '
                'checkpoint written before it is intact'
                + (f': {last}' if last else '') + '.')

    @staticmethod
    def _invalid_terms(outputs: dict) -> Sequence[tuple]:
        """The non-finite ``loss*`` entries, single terms before the total
        ``loss`` (which is only invalid because a term is)."""
        bad = []
        for name, value in outputs.items():
            if 'loss' not in name:
                continue
            if isinstance(value, torch.Tensor):
                value = value.detach()
            value = float(value)
            if not math.isfinite(value):
                bad.append((name, value))
        return sorted(bad, key=lambda item: item[0] == 'loss')

"""Config helper: train with the exactly-resumable epoch loop."""
from mmengine.config import Config

__all__ = ['use_resumable_train_loop']

#: Registered name of :class:`mmdcct.engine.ResumableEpochBasedTrainLoop`.
RESUMABLE_LOOP = 'mmdcct.ResumableEpochBasedTrainLoop'
EPOCH_LOOPS = ('EpochBasedTrainLoop', 'mmengine.EpochBasedTrainLoop',
               'ResumableEpochBasedTrainLoop', RESUMABLE_LOOP)


def use_resumable_train_loop(cfg: Config) -> bool:
    """Switch an implicit epoch-based ``train_cfg`` to the resumable loop.

    ``train_cfg = dict(by_epoch=True, ...)`` (no ``type``) makes MMEngine
    build its ``EpochBasedTrainLoop``, which restarts an epoch after a
    mid-epoch resume. It is replaced by
    :class:`mmdcct.engine.ResumableEpochBasedTrainLoop`, which behaves the
    same except that it resumes exactly (see its docs). A ``train_cfg`` with
    an explicit ``type`` is kept, e.g.
    ``--cfg-options train_cfg.type=EpochBasedTrainLoop`` keeps MMEngine's
    (a ``by_epoch`` key left from the base config is then dropped).

    Args:
        cfg (Config): The full config, modified in place.

    Returns:
        bool: True if ``train_cfg`` was changed.
    """
    train_cfg = cfg.get('train_cfg')
    if not train_cfg:
        return False
    if 'type' in train_cfg:
        # e.g. `--cfg-options train_cfg.type=EpochBasedTrainLoop` on top of
        # `dict(by_epoch=True, ...)`: that loop takes no `by_epoch`
        if train_cfg['type'] in EPOCH_LOOPS and train_cfg.get('by_epoch'):
            train_cfg.pop('by_epoch')
        return False
    if not train_cfg.get('by_epoch', False):
        return False
    train_cfg.pop('by_epoch')
    train_cfg['type'] = RESUMABLE_LOOP
    return True

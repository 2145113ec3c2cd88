"""Static checks of a training config that fail fast with both values."""
from typing import Iterator, Tuple

from mmengine.config import Config

SAMPLING_TYPES = ('RestrictedRandomSampling', 'mmdcct.RestrictedRandomSampling')
BALANCED_SAMPLER_TYPES = ('IdentityBalancedSampler',
                          'mmdcct.IdentityBalancedSampler')
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _pipeline_num_frames(cfg: Config) -> Iterator[Tuple[str, int]]:
    """Yield ``(where, num_frames)`` of every frame-sampling transform."""
    for loader in DATALOADERS:
        dataloader = cfg.get(loader)
        if not dataloader:
            continue
        pipeline = dataloader.get('dataset', {}).get('pipeline', []) or []
        for index, transform in enumerate(pipeline):
            if isinstance(transform, dict) and transform.get(
                    'type') in SAMPLING_TYPES:
                yield (f'{loader}.dataset.pipeline.{index} '
                       f"({transform['type']})",
                       int(transform.get('num_frames', 8)))


def validate_config(cfg: Config) -> None:
    """Reject contradictory settings before anything is built.

    Checks that every frame-sampling transform draws as many frames as the
    temporal neck's position embeddings expect (``num_frames``), and that the
    training batch is a whole number of identity groups of the
    ``IdentityBalancedSampler`` (``batch_size`` divisible by
    ``num_instances``). The number of classes against the training
    identities needs the dataset and is checked by
    :class:`mmdcct.engine.NumClassesCheckHook`.

    Args:
        cfg (Config): The full config.

    Raises:
        ValueError: Naming both contradictory values.
    """
    temporal_neck = (cfg.get('model') or {}).get('temporal_neck') or {}
    neck_frames = temporal_neck.get('num_frames')
    if neck_frames is not None:
        for where, num_frames in _pipeline_num_frames(cfg):
            if num_frames != neck_frames:
                raise ValueError(
                    f'{where} samples num_frames={num_frames} but '
                    f'model.temporal_neck ({temporal_neck.get("type")}) has '
                    f'num_frames={neck_frames}; set both to the same T.')
    train_loader = cfg.get('train_dataloader') or {}
    sampler = train_loader.get('sampler') or {}
    if sampler.get('type') in BALANCED_SAMPLER_TYPES:
        batch_size = train_loader.get('batch_size')
        num_instances = sampler.get('num_instances', 4)
        if batch_size is not None and batch_size % num_instances:
            raise ValueError(
                f'train_dataloader.batch_size={batch_size} is not divisible '
                f'by train_dataloader.sampler.num_instances={num_instances}: '
                'IdentityBalancedSampler batches are P identities x K '
                'tracklets.')

"""Static checks of a training config that fail fast, naming the key."""
import difflib
import inspect
import re
import warnings
from typing import Any, Iterator, List, Optional, Set, Tuple

from mmengine.config import Config

SAMPLING_TYPES = tuple(
    scope + name
    for name in ('RestrictedRandomSampling', 'IntervalSampleFrames',
                 'EvenlySampleFrames') for scope in ('', 'mmdcct.'))
BALANCED_SAMPLER_TYPES = ('IdentityBalancedSampler',
                          'mmdcct.IdentityBalancedSampler')
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')

#: Top-level keys read by OpenMMLab tooling besides ``Runner.from_cfg``.
EXTRA_RUNNER_KEYS = ('custom_imports', 'default_scope', 'launcher',
                     'work_dir', 'resume', 'load_from', 'tta_model',
                     'tta_pipeline', 'compile', 'model_wrapper_cfg',
                     'find_unused_parameters', 'sync_bn')
#: Variables that the OpenMMLab base configs (and ours) define and use.
BASE_CONFIG_VARIABLES = ('dataset_type', 'data_root', 'num_frames',
                         'img_scale', 'train_pipeline', 'val_pipeline',
                         'test_pipeline', 'backend_args', 'vis_backends',
                         'split_id', 'num_classes')
#: How close (``difflib`` ratio) an unknown key must be to a known one to be
#: reported as its misspelling.
MISSPELLING_CUTOFF = 0.85

#: Keys MMEngine's ``Runner.build_dataloader`` consumes itself; the rest go
#: to ``torch.utils.data.DataLoader``.
RUNNER_DATALOADER_KEYS = ('dataset', 'sampler', 'batch_sampler',
                          'collate_fn', 'worker_init_fn',
                          'num_batch_per_epoch')


def runner_config_keys() -> Set[str]:
    """Collect the top-level keys MMEngine's ``Runner`` reads.

    Returns:
        set[str]: The parameters of ``Runner.__init__``, the keys read by
        ``Runner.from_cfg`` and by the runner through ``self.cfg.get``, and
        :data:`EXTRA_RUNNER_KEYS`.
    """
    from mmengine.runner import Runner
    keys = set(inspect.signature(Runner.__init__).parameters) - {'self'}
    try:
        keys.update(
            re.findall(r"\bcfg(?:\.get\(|\[)'(\w+)'",
                       inspect.getsource(Runner.from_cfg)))
        keys.update(
            re.findall(r"\bself\.cfg\.get\('(\w+)'",
                       inspect.getsource(Runner)))
    except (OSError, TypeError):  # no sources (e.g. a frozen install)
        pass
    keys.update(EXTRA_RUNNER_KEYS)
    keys.discard('cfg')
    return keys


def _closest(name: str, candidates, cutoff: float = 0.6) -> Optional[str]:
    """Return the candidate closest to ``name`` (``difflib``), if any."""
    match = difflib.get_close_matches(name, sorted(candidates), 1, cutoff)
    return match[0] if match else None


def _check_top_level_keys(cfg: Config) -> None:
    """Reject a top-level key that looks like a misspelled Runner key.

    MMEngine silently ignores a top-level key it does not read, so
    ``train_dataloder = dict(...)`` would train with the base config's
    loader. A key close to one the Runner reads is an error; one close to a
    base-config variable (``data_root``, ``num_frames``, ...) is a warning,
    since variables only matter inside the file that uses them. Keys starting
    with ``_`` are never reported (name a helper variable ``_foo`` to keep it).
    """
    runner_keys = runner_config_keys()
    known = runner_keys | set(BASE_CONFIG_VARIABLES)
    for key in cfg.keys():
        if key in known or key.startswith('_'):
            continue
        match = _closest(key, known, MISSPELLING_CUTOFF)
        if match is None:
            continue
        if match in runner_keys:
            raise ValueError(
                f'Unknown top-level config key "{key}": did you mean '
                f'"{match}"? MMEngine\'s Runner ignores keys it does not '
                f'read, so "{match}" would silently keep its base/default '
                f'value. Rename it to "{match}" (or, if it is a helper '
                f'variable, give it a name starting with "_", e.g. '
                f'"_{key}").')
        warnings.warn(
            f'Top-level config variable "{key}" looks like a misspelling of '
            f'"{match}"; "{match}" keeps its base value. Rename it (or start '
            f'a helper variable\'s name with "_" to silence this).')


def _resolve(registry, cfg: dict) -> Optional[type]:
    """Return the class a component config builds, or None if unknown."""
    obj_type = cfg.get('type')
    if inspect.isclass(obj_type):
        return obj_type
    if not isinstance(obj_type, str):
        return None
    try:
        return registry.get(obj_type)
    except Exception:  # an unknown scope; the builder will say so
        return None


def _accepted_kwargs(cls: type) -> Optional[Set[str]]:
    """Keyword arguments ``cls(...)`` accepts; None if it takes any.

    A ``**kwargs`` of an mmdcct class is followed to the next ``__init__``
    in the MRO (our datasets pass them to their base class).
    """
    names: Set[str] = set()
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        try:
            params = inspect.signature(klass.__init__).parameters
        except (TypeError, ValueError):
            return None
        names.update(
            name for name, p in params.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            names.discard('self')
            return names
        if not klass.__module__.startswith('mmdcct'):
            return None
    names.discard('self')
    return names


def _check_kwargs(cls: type, cfg: dict, where: str,
                  injected: Tuple[str, ...] = ()) -> None:
    """Raise if ``cfg`` passes ``cls`` an argument it does not take."""
    accepted = _accepted_kwargs(cls)
    if accepted is None:
        return
    for key in cfg:
        if key in ('type', '_scope_') or key in accepted or key in injected:
            continue
        match = _closest(key, accepted)
        hint = (f'did you mean "{match}"?' if match else
                f'it takes {sorted(accepted - set(injected))}.')
        raise ValueError(
            f'{where}: {cls.__name__} has no argument "{key}"; {hint} '
            f'Fix the key "{where}.{key}" (otherwise it fails later with a '
            'TypeError, or a default is used silently).')


def _check_int(value: Any, where: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an int >= ``minimum``; raise otherwise."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f'{where} must be an int, got {value!r} '
                        f'({type(value).__name__}).')
    if value < minimum:
        raise ValueError(f'{where} must be >= {minimum}, got {value}.')
    return value


def _iter_transforms(pipeline: Any,
                     where: str) -> Iterator[Tuple[str, dict]]:
    """Yield ``(where, cfg)`` of every transform, wrapped ones included."""
    if not isinstance(pipeline, (list, tuple)):
        return
    for index, transform in enumerate(pipeline):
        here = f'{where}.{index}'
        if isinstance(transform, (list, tuple)):  # e.g. RandomChoice
            yield from _iter_transforms(transform, here)
        elif isinstance(transform, dict):
            yield here, transform
            yield from _iter_transforms(
                transform.get('transforms'), f'{here}.transforms')


def _iter_dataloaders(cfg: Config) -> Iterator[Tuple[str, dict]]:
    """Yield ``(name, cfg)`` of every dataloader given as a dict."""
    for loader in DATALOADERS:
        dataloader = cfg.get(loader)
        if isinstance(dataloader, dict):
            yield loader, dataloader


def _check_dataloader_keys(cfg: Config) -> None:
    """Check the argument names of the dataloaders and their components."""
    from torch.utils.data import DataLoader

    from mmdcct.registry import DATA_SAMPLERS, DATASETS, TRANSFORMS
    loader_keys = (set(inspect.signature(DataLoader.__init__).parameters)
                   | set(RUNNER_DATALOADER_KEYS)) - {'self'}
    for loader, dataloader in _iter_dataloaders(cfg):
        for key in dataloader:
            if key not in loader_keys:
                match = _closest(key, loader_keys)
                hint = f' did you mean "{match}"?' if match else ''
                raise ValueError(
                    f'{loader}.{key}: DataLoader has no argument "{key}";'
                    f'{hint} Fix the key "{loader}.{key}".')
        for key in ('batch_size', 'num_workers'):
            if key in dataloader:
                _check_int(dataloader[key], f'{loader}.{key}',
                           minimum=1 if key == 'batch_size' else 0)
        sampler = dataloader.get('sampler')
        if isinstance(sampler, dict):
            cls = _resolve(DATA_SAMPLERS, sampler)
            if cls is not None:
                # the Runner passes these two itself
                _check_kwargs(cls, sampler, f'{loader}.sampler',
                              ('dataset', 'seed'))
        dataset = dataloader.get('dataset')
        depth = 0
        where = f'{loader}.dataset'
        while isinstance(dataset, dict) and depth < 4:
            cls = _resolve(DATASETS, dataset)
            if cls is not None:
                _check_kwargs(cls, dataset, where)
            for t_where, transform in _iter_transforms(
                    dataset.get('pipeline'), f'{where}.pipeline'):
                t_cls = _resolve(TRANSFORMS, transform)
                if t_cls is not None:
                    _check_kwargs(t_cls, transform, t_where)
            # dataset wrappers (RepeatDataset, ClassBalancedDataset, ...)
            dataset, where, depth = (dataset.get('dataset'),
                                     f'{where}.dataset', depth + 1)


def _sampling_default(type_name: str) -> int:
    """The ``num_frames`` default of a registered frame-sampling transform."""
    from mmdcct.registry import TRANSFORMS
    cls = TRANSFORMS.get(type_name)
    param = inspect.signature(cls).parameters.get('num_frames')
    return param.default


def _pipeline_num_frames(cfg: Config) -> Iterator[Tuple[str, int]]:
    """Yield ``(where, num_frames)`` of every frame-sampling transform."""
    for loader, dataloader in _iter_dataloaders(cfg):
        dataset = dataloader.get('dataset')
        if not isinstance(dataset, dict):
            continue
        pipeline = dataset.get('pipeline') or []
        for where, transform in _iter_transforms(
                pipeline, f'{loader}.dataset.pipeline'):
            if transform.get('type') not in SAMPLING_TYPES:
                continue
            if 'num_frames' in transform:
                num_frames = _check_int(transform['num_frames'],
                                        f'{where}.num_frames')
                given = ''
            else:
                num_frames = _sampling_default(transform['type'])
                given = ' (its default; the key is not set)'
            yield (f"{where} ({transform['type']}) samples "
                   f'num_frames={num_frames}{given}'), num_frames


def validate_config(cfg: Config) -> None:
    """Reject misspelled keys, wrong types and contradictory settings.

    Runs before anything is built (``tools/train.py`` calls it after merging
    ``--cfg-options``). In order, it checks that

    - no top-level key is a close misspelling of a key MMEngine's Runner
      reads (an error; a close misspelling of a base-config variable such as
      ``data_root`` is a warning);
    - the dataloaders, their samplers, datasets and transforms get only
      arguments their classes take (the closest name is suggested);
    - ``batch_size``, ``num_workers``, ``sampler.num_instances`` and every
      ``num_frames`` are ints;
    - every frame-sampling transform draws as many frames as the temporal
      neck's position embeddings expect (``num_frames``);
    - the training batch is a whole number of identity groups of the
      ``IdentityBalancedSampler`` (``batch_size`` divisible by
      ``num_instances``);
    - ``train_cfg`` does not set both a loop ``type`` and ``by_epoch``.

    It also sets ``train_dataloader.sampler.batch_size`` of an
    ``IdentityBalancedSampler`` to ``train_dataloader.batch_size``, so that
    the sampler can report too few identities when the dataset is built. The
    number of classes against the training identities needs the dataset and
    is checked by :class:`mmdcct.engine.NumClassesCheckHook`.

    Args:
        cfg (Config): The full config.

    Raises:
        ValueError: Naming the key (and both values of a contradiction).
        TypeError: Naming the key whose value has the wrong type.
    """
    _check_top_level_keys(cfg)
    _check_dataloader_keys(cfg)

    temporal_neck = (cfg.get('model') or {}).get('temporal_neck') or {}
    neck_frames = temporal_neck.get('num_frames')
    if neck_frames is not None:
        _check_int(neck_frames, 'model.temporal_neck.num_frames')
    sampled: List[Tuple[str, int]] = list(_pipeline_num_frames(cfg))
    if neck_frames is not None:
        for what, num_frames in sampled:
            if num_frames != neck_frames:
                raise ValueError(
                    f'{what} but model.temporal_neck '
                    f'({temporal_neck.get("type")}) has num_frames='
                    f'{neck_frames}; set both to the same T.')

    train_loader = cfg.get('train_dataloader') or {}
    sampler = train_loader.get('sampler') or {}
    if isinstance(sampler, dict) and sampler.get(
            'type') in BALANCED_SAMPLER_TYPES:
        batch_size = train_loader.get('batch_size')
        num_instances = _check_int(
            sampler.get('num_instances', 4),
            'train_dataloader.sampler.num_instances')
        if batch_size is not None:
            if batch_size % num_instances:
                raise ValueError(
                    f'train_dataloader.batch_size={batch_size} is not '
                    'divisible by train_dataloader.sampler.num_instances='
                    f'{num_instances}: IdentityBalancedSampler batches are '
                    'P identities x K tracklets.')
            sampler['batch_size'] = batch_size

    train_cfg = cfg.get('train_cfg') or {}
    if 'type' in train_cfg and 'by_epoch' in train_cfg:
        raise ValueError(
            f"train_cfg has type={train_cfg['type']!r} (e.g. from "
            'configs/_base_/schedules) and by_epoch='
            f"{train_cfg['by_epoch']!r}; MMEngine takes only one of them. "
            'Drop by_epoch (the loop type already says how it iterates), '
            'or set `train_cfg = dict(_delete_=True, by_epoch=..., ...)`.')

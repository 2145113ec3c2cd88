"""Environment helpers: registering every module and setting the scope."""
import datetime
import warnings

from mmengine import DefaultScope

__all__ = [
    'MMCV_LITE_WARNING', 'ignore_mmcv_lite_warning', 'register_all_modules'
]

#: What ``mmcv.cnn`` warns on import under mmcv-lite (no compiled ops), even
#: though no Re-ID component needs those ops.
MMCV_LITE_WARNING = r'Fail to import ``MultiScaleDeformableAttention``'


def ignore_mmcv_lite_warning() -> None:
    """Silence exactly :data:`MMCV_LITE_WARNING`, process-wide.

    For entry points (``tools/*.py``); library code wraps the import site in
    ``warnings.catch_warnings()`` instead.
    """
    warnings.filterwarnings(
        'ignore', message=MMCV_LITE_WARNING, category=UserWarning)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all modules in mmdcct into the registries.

    Args:
        init_default_scope (bool): Whether to set the default scope to
            ``'mmdcct'``, so that registries look up ``mmdcct`` first.
            Defaults to True.
    """
    import mmdcct.datasets  # noqa: F401,F403
    import mmdcct.engine  # noqa: F401,F403
    import mmdcct.evaluation  # noqa: F401,F403
    import mmdcct.models  # noqa: F401,F403
    import mmdcct.structures  # noqa: F401,F403
    import mmdcct.visualization  # noqa: F401,F403

    if not init_default_scope:
        return

    current_scope = DefaultScope.get_current_instance()
    if current_scope is None:
        DefaultScope.get_instance('mmdcct', scope_name='mmdcct')
    elif current_scope.scope_name != 'mmdcct':
        warnings.warn(
            f'The current default scope "{current_scope.scope_name}" is not '
            '"mmdcct", `register_all_modules` will force the current '
            'default scope to be "mmdcct". If this is not expected, '
            'please set `init_default_scope=False`.')
        new_instance_name = f'mmdcct-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='mmdcct')

"""Input widths of the necks and the head, taken from the built backbone."""
import inspect
from typing import Dict, List, Optional, Tuple

import torch.nn as nn

from mmdcct.registry import MODELS

__all__ = ['HEAD_WIDTH_KEYS', 'WidthResolver']

#: Head arguments holding the input widths of each stage, looked for in
#: this order in the head's signature: the backbone globals (``'base'``),
#: the spatial-neck outputs and the temporal-neck output.
HEAD_WIDTH_KEYS = {
    'base': ('frame_channels', 'base_channels', 'in_channels'),
    'spatial': ('spatial_channels', ),
    'final': ('video_channels', 'final_channels'),
}

Widths = Optional[Tuple[int, ...]]


def _as_widths(value) -> Widths:
    """A width setting as a tuple of ints (None stays None)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return (int(value), )


def _type_name(cfg: Optional[dict]) -> str:
    if cfg is None:
        return 'None'
    module_type = cfg.get('type')
    return module_type if isinstance(module_type, str) else getattr(
        module_type, '__name__', str(module_type))


def _signature_keys(cfg: dict) -> Optional[List[str]]:
    """Argument names of the module a config builds (None if unknown)."""
    module_type = cfg.get('type')
    cls = MODELS.get(module_type) if isinstance(module_type,
                                                str) else module_type
    if cls is None:
        return None
    try:
        return list(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        return None


class WidthResolver:
    """Fills in and checks the input widths of a :class:`VideoReID`.

    A width the config leaves unset (missing or None) is taken from the
    built backbone's ``out_channels`` (one width per branch) and the parts
    after it:

    - ``spatial_neck.in_channels``: the backbone widths;
    - ``temporal_neck.in_channels``: the spatial neck's output widths (its
      ``out_channels`` if it has one, else it keeps the widths) or, without
      a spatial neck, the backbone widths;
    - the head's per-stage widths (:data:`HEAD_WIDTH_KEYS`): the backbone
      widths, the spatial neck's output widths (None without a spatial
      neck) and the temporal neck's ``out_channels`` (None without one).

    A width set in the config is checked against the same value, and
    :meth:`check` reports all wrong ones in one error. A backbone without
    ``out_channels`` leaves the configs as they are.

    Args:
        backbone (nn.Module): The built backbone.
    """

    def __init__(self, backbone: nn.Module) -> None:
        self.backbone = backbone
        self.base = _as_widths(getattr(backbone, 'out_channels', None))
        #: ``(config key, value in the config, right value)`` per wrong key.
        self.wrong: List[Tuple[str, object, object]] = []

    def _resolve(self, cfg: dict, key: str, part: str, expected: Widths,
                 scalar: bool = False) -> dict:
        """Fill ``cfg[key]`` if unset, else record it if it differs."""
        value = cfg.get(key)
        right = expected[0] if (scalar and expected is not None) else expected
        if value is None:
            cfg = dict(cfg)
            cfg[key] = right
        elif expected is not None and _as_widths(value) != expected:
            self.wrong.append((f'model.{part}.{key}', value, right))
        return cfg

    @staticmethod
    def _outputs(neck: Optional[nn.Module], inputs: Widths) -> Widths:
        """Output widths of a spatial neck given its input widths."""
        if neck is None:
            return None
        return _as_widths(getattr(neck, 'out_channels', None)) or inputs

    def neck(self,
             cfg: Optional[dict],
             part: str,
             spatial_neck: Optional[nn.Module] = None) -> Optional[dict]:
        """A neck config with its ``in_channels`` filled in or checked.

        Args:
            cfg (dict, optional): The neck config.
            part (str): ``'spatial_neck'`` or ``'temporal_neck'``.
            spatial_neck (nn.Module, optional): For the temporal neck, the
                built spatial neck before it.

        Returns:
            dict | None: The config to build.
        """
        if cfg is None or self.base is None:
            return cfg
        keys = _signature_keys(cfg)
        if keys is not None and 'in_channels' not in keys:
            return cfg
        expected = self._outputs(spatial_neck, self.base) or self.base
        return self._resolve(cfg, 'in_channels', part, expected)

    def head(self, cfg: Optional[dict], spatial_neck: Optional[nn.Module],
             temporal_neck: Optional[nn.Module]) -> Optional[dict]:
        """The head config with its per-stage widths filled in or checked.

        Args:
            cfg (dict, optional): The head config.
            spatial_neck (nn.Module, optional): The built spatial neck.
            temporal_neck (nn.Module, optional): The built temporal neck.

        Returns:
            dict | None: The config to build.
        """
        if cfg is None or self.base is None:
            return cfg
        stages: Dict[str, Widths] = dict(
            base=self.base, spatial=self._outputs(spatial_neck, self.base))
        if temporal_neck is None:
            stages['final'] = None
        elif getattr(temporal_neck, 'out_channels', None):
            stages['final'] = _as_widths(temporal_neck.out_channels)
        keys = _signature_keys(cfg) or list(cfg)
        for stage, candidates in HEAD_WIDTH_KEYS.items():
            # the key set in the config (maybe a deprecated alias), else the
            # head's own name for it
            key = next((k for k in candidates if cfg.get(k) is not None),
                       None) or next((k for k in candidates if k in keys),
                                     None)
            if key is None or stage not in stages:
                continue  # the head has no such key / the width is unknown
            if stages[stage] is None and cfg.get(key) is not None:
                continue  # a stage the model lacks: the head decides
            if cfg.get(key) is None:  # drop unset aliases of the filled key
                cfg = {k: v for k, v in cfg.items()
                       if k not in candidates or k == key}
            cfg = self._resolve(cfg, key, 'head', stages[stage],
                                scalar=stage == 'final')
        return cfg

    def check(self, **parts: Optional[dict]) -> None:
        """Raise one error naming every wrong width, if any.

        Args:
            **parts (dict, optional): The model's part configs by name, for
                the message.

        Raises:
            ValueError: Listing each wrong config key with its right value.
        """
        if not self.wrong:
            return
        model = ', '.join(f'{name}={_type_name(cfg)}'
                          for name, cfg in parts.items())
        types = getattr(self.backbone, 'branch_types', None)
        if callable(types):
            given = ', '.join(f'{name} ({cls}) {width}'
                              for (name, cls), width in zip(
                                  types().items(), self.base))
        else:
            given = str(self.base)
        lines = '\n'.join(f'  {key}={right!r}   (the config has {value!r})'
                          for key, value, right in self.wrong)
        raise ValueError(
            f'VideoReID: {len(self.wrong)} input width(s) in the config do '
            f'not fit the model ({model}), whose backbone branches give '
            f'{given} channels. Set every key below to its value, or delete '
            'it (or set it to None) to have it taken from the backbone:\n'
            f'{lines}')

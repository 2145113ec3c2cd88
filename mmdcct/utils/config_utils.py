"""Helpers that rewrite configs, e.g. to build models without downloads."""
import copy
from typing import Any

__all__ = ['remove_pretrained_init']


def _is_pretrained(init_cfg: Any) -> bool:
    """Whether one ``init_cfg`` entry loads a checkpoint."""
    return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'


def _strip(node: Any) -> Any:
    """Recursively drop the ``Pretrained`` init configs of ``node``."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == 'init_cfg':
                if _is_pretrained(value):
                    continue
                if isinstance(value, (list, tuple)):
                    kept = [v for v in value if not _is_pretrained(v)]
                    if not kept:
                        continue
                    value = kept
            out[key] = _strip(value)
        return out
    if isinstance(node, (list, tuple)):
        return type(node)(_strip(v) for v in node)
    return copy.deepcopy(node)


def remove_pretrained_init(cfg: Any) -> Any:
    """Remove every ``Pretrained`` initialisation from a (model) config.

    Every ``init_cfg`` at any depth that is a ``dict(type='Pretrained', ...)``
    is removed (the key disappears, so the module falls back to its own
    default initialisation, e.g. mmpretrain's Kaiming init of ResNet); in a
    list of init configs only the ``Pretrained`` entries are dropped. Other
    init configs (``Normal``, ``Constant``, ...) are kept. Used to build the
    released configs without downloading weights (tests, FLOP counting).

    Args:
        cfg (dict | list | Any): A config (``dict``, ``mmengine.ConfigDict``
            or a list of them). It is not modified.

    Returns:
        The same structure as plain dicts / lists without the pretrained
        init configs.
    """
    if hasattr(cfg, 'to_dict'):
        cfg = cfg.to_dict()
    return _strip(cfg)

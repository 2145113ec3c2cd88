"""Helpers shared by the heads: the stage vocabulary and its old names."""
import warnings
from typing import Dict, Mapping

__all__ = ['STAGES', 'OLD_STAGE_NAMES', 'stage_features', 'rename_deprecated']

#: The feature stages, named as ``VideoReID``'s ``test_cfg.feature``.
STAGES = ('base', 'spatial', 'final')

#: Stage names used (as feature-dict keys and per-stage config keys) before
#: the stages got one name everywhere.
OLD_STAGE_NAMES = dict(frame='base', video='final')


def stage_features(feats: Mapping, owner: str) -> Dict:
    """The features by stage (``base`` / ``spatial`` / ``final``).

    Accepts the old keys ``frame`` (→ ``base``) and ``video`` (→ ``final``)
    with a ``FutureWarning``.

    Args:
        feats (Mapping): Features keyed by stage.
        owner (str): The caller, for messages.

    Returns:
        dict: ``base``, ``spatial`` and ``final`` (None where absent).
    """
    feats = dict(feats)
    for old, new in OLD_STAGE_NAMES.items():
        if old in feats:
            if new in feats:
                raise ValueError(f'{owner}: feats has both {old!r} and its '
                                 f'new name {new!r}; pass {new!r} only.')
            warnings.warn(
                f'{owner}: feats[{old!r}] is deprecated, use '
                f'feats[{new!r}] (the stages are {STAGES}).', FutureWarning)
            feats[new] = feats.pop(old)
    return {stage: feats.get(stage) for stage in STAGES}


def rename_deprecated(kwargs: dict, renames: Mapping[str, str],
                      owner: str) -> dict:
    """Map deprecated keyword arguments to their new names.

    Args:
        kwargs (dict): The deprecated keyword arguments given.
        renames (Mapping[str, str]): Old name -> new name.
        owner (str): The class, for messages.

    Returns:
        dict: The same values under their new names.

    Raises:
        TypeError: For an argument that is neither.
    """
    unknown = set(kwargs) - set(renames)
    if unknown:
        raise TypeError(f'{owner}.__init__() got unexpected keyword '
                        f'arguments {sorted(unknown)}')
    for old in kwargs:
        warnings.warn(
            f'{owner}: {old!r} is deprecated, use {renames[old]!r}.',
            FutureWarning)
    return {renames[old]: value for old, value in kwargs.items()}

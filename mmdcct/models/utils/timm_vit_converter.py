"""timm / TransReID ViT weights for mmpretrain's ``VisionTransformer``.

The DCCT authors start their transformer from the original ViT-B/16
(``jx_vit_base_p16_224-80ecf9dd.pth``, timm key names; the authors' public
code). mmpretrain's ``VisionTransformer`` holds the same tensors under other
names; :func:`convert_timm_vit` renames them.

A config loads such a file straight from its URL (or a local path, or any
MMEngine file backend) with MMEngine's own ``Pretrained`` initializer and the
``timm-vit://`` checkpoint scheme registered here::

    init_cfg=dict(
        type='Pretrained',
        checkpoint='timm-vit://https://github.com/rwightman/'
        'pytorch-image-models/releases/download/v0.1-vitjx/'
        'jx_vit_base_p16_224-80ecf9dd.pth')

The scheme loads the file behind the prefix with MMEngine's
``CheckpointLoader`` and converts the names; the position grid keeps its
checkpoint size (14x14) and is resized by ``VisionTransformer``'s load hook
with the backbone's ``interpolate_mode`` (``'bilinear'`` as the authors).

Why a checkpoint scheme and not a new initializer type: MMEngine's
``BaseModule.init_weights`` applies every initializer other than
``'Pretrained'`` *before* the children's own ``init_weights`` run, and
mmpretrain's ``VisionTransformer`` re-draws ``pos_embed`` unless its
``init_cfg`` type is ``'Pretrained'``, so weights loaded by any other type
would be partly overwritten (the position embedding and every FFN).
"""
import math
import re
from collections import OrderedDict
from typing import Any, Mapping

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = [
    'TIMM_VIT_SCHEME', 'TIMM_VIT_HEAD_PREFIXES', 'TimmViTConversionError',
    'convert_timm_vit', 'load_from_timm_vit'
]

#: Checkpoint prefix: ``'timm-vit://' + <path or URL of a timm ViT file>``.
TIMM_VIT_SCHEME = 'timm-vit://'

#: Classifier tensors of timm / TransReID ViTs (``fc`` is TransReID's unused
#: 1000-way head); none of them is part of the token features.
TIMM_VIT_HEAD_PREFIXES = ('head.', 'head_dist.', 'pre_logits.', 'fc.')

# timm name -> mmpretrain name; everything else is an error.
_RULES = (
    (re.compile(r'^(cls_token|pos_embed)$'), r'\1'),
    (re.compile(r'^patch_embed\.proj\.(weight|bias)$'),
     r'patch_embed.projection.\1'),
    (re.compile(r'^blocks\.(\d+)\.norm1\.(weight|bias)$'),
     r'layers.\1.ln1.\2'),
    (re.compile(r'^blocks\.(\d+)\.norm2\.(weight|bias)$'),
     r'layers.\1.ln2.\2'),
    (re.compile(r'^blocks\.(\d+)\.attn\.(qkv|proj)\.(weight|bias)$'),
     r'layers.\1.attn.\2.\3'),
    (re.compile(r'^blocks\.(\d+)\.mlp\.fc1\.(weight|bias)$'),
     r'layers.\1.ffn.layers.0.0.\2'),
    (re.compile(r'^blocks\.(\d+)\.mlp\.fc2\.(weight|bias)$'),
     r'layers.\1.ffn.layers.1.\2'),
    (re.compile(r'^norm\.(weight|bias)$'), r'ln1.\1'),
)


class TimmViTConversionError(ValueError):
    """A checkpoint is not a plain timm ViT (the message says why)."""


def _rename(key: str) -> str:
    for pattern, target in _RULES:
        if pattern.match(key):
            return pattern.sub(target, key)
    return ''


def _is_square(n: int) -> bool:
    return n > 0 and math.isqrt(n)**2 == n


def convert_timm_vit(
        state_dict: Mapping[str, torch.Tensor]
) -> 'OrderedDict[str, torch.Tensor]':
    """Rename a timm (or TransReID) ViT state dict to mmpretrain's names.

    ``patch_embed.proj`` -> ``patch_embed.projection``;
    ``blocks.i.norm1 / norm2`` -> ``layers.i.ln1 / ln2``;
    ``blocks.i.mlp.fc1 / fc2`` -> ``layers.i.ffn.layers.0.0 / layers.1``;
    the final ``norm`` -> ``ln1``; ``cls_token``, ``pos_embed``,
    ``attn.qkv`` and ``attn.proj`` keep their names. The classifier
    (:data:`TIMM_VIT_HEAD_PREFIXES`) is dropped and a leading ``module.``
    (``nn.DataParallel``) is removed. ``pos_embed`` is left at the
    checkpoint's grid size. The result loads into
    ``mmpretrain.VisionTransformer(final_norm=True)``, whose ``out_type='raw'``
    tokens then equal timm's ``forward_features``.

    Args:
        state_dict (Mapping[str, Tensor]): The timm ViT weights.

    Returns:
        OrderedDict[str, Tensor]: The same tensors (not copied) under
        mmpretrain's names.

    Raises:
        TimmViTConversionError: If a tensor has no mmpretrain counterpart
            (another architecture, a whole-model checkpoint, or a file that
            already has mmpretrain's names) or ``pos_embed`` has no
            class-token entry.
    """
    converted = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        key = re.sub(r'^module\.', '', key)
        if key.startswith(TIMM_VIT_HEAD_PREFIXES):
            continue
        new_key = _rename(key)
        if not new_key:
            unknown.append(key)
            continue
        converted[new_key] = value
    if unknown:
        hint = ''
        if any(k.startswith(('layers.', 'patch_embed.projection', 'ln1.'))
               for k in unknown):
            hint = (' These look like mmpretrain names already: load the '
                    "file without the 'timm-vit://' prefix.")
        elif any('.' in k and not k.startswith('blocks.') for k in unknown):
            hint = (' For a whole-model checkpoint select the ViT first '
                    '(the keys under its prefix, with the prefix removed).')
        raise TimmViTConversionError(
            f'{len(unknown)} tensor(s) have no counterpart in mmpretrain\'s '
            f'VisionTransformer, e.g. {unknown[:5]}. Supported: a plain timm '
            'ViT (cls_token, pos_embed, patch_embed.proj, blocks.N.{norm1, '
            'attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm, and a '
            f'dropped classifier {TIMM_VIT_HEAD_PREFIXES}).{hint}')
    if not converted:
        raise TimmViTConversionError(
            'the state dict holds no ViT tensor (only a classifier or '
            'nothing)')
    pos_embed = converted.get('pos_embed')
    if (pos_embed is not None and pos_embed.dim() == 3
            and _is_square(pos_embed.shape[1])
            and not _is_square(pos_embed.shape[1] - 1)):
        raise TimmViTConversionError(
            f'pos_embed {tuple(pos_embed.shape)} has no class-token entry '
            '(a timm model with no_embed_class=True); mmpretrain\'s '
            'VisionTransformer expects one position per patch plus one for '
            'the class token')
    return converted


def _state_dict_of(checkpoint: Any, source: str) -> Mapping[str, Any]:
    """The weights of a bare state dict or a ``{'state_dict' | 'model'}``
    checkpoint."""
    if isinstance(checkpoint, Mapping):
        for section in ('state_dict', 'model'):
            inner = checkpoint.get(section)
            if isinstance(inner, Mapping):
                return inner
        if all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
            return checkpoint
    raise TimmViTConversionError(
        f'{source} is not a state dict nor a checkpoint with a '
        "'state_dict' / 'model' entry")


def load_from_timm_vit(filename: str,
                       map_location: Any = None) -> 'OrderedDict[str, Any]':
    """MMEngine checkpoint loader of the ``timm-vit://`` scheme.

    Loads the file after the prefix with ``CheckpointLoader`` (so local
    paths, ``http(s)://`` and the other schemes and file backends work) and
    returns :func:`convert_timm_vit` of its weights.

    Args:
        filename (str): ``'timm-vit://' + <path or URL>``.
        map_location (Any): As ``torch.load``.

    Returns:
        OrderedDict[str, Tensor]: The weights under mmpretrain's names.
    """
    source = filename[len(TIMM_VIT_SCHEME):]
    if not source:
        raise TimmViTConversionError(
            f"{filename!r}: put the checkpoint's path or URL after "
            f"{TIMM_VIT_SCHEME!r}")
    checkpoint = CheckpointLoader.load_checkpoint(source, map_location)
    state_dict = _state_dict_of(checkpoint, source)
    try:
        converted = convert_timm_vit(state_dict)
    except TimmViTConversionError as err:
        raise TimmViTConversionError(f'{source}: {err}') from None
    dropped = [
        re.sub(r'^module\.', '', k) for k in state_dict
        if re.sub(r'^module\.', '', k).startswith(TIMM_VIT_HEAD_PREFIXES)
    ]
    print_log(
        f'{source}: {len(converted)} timm ViT tensors renamed to mmpretrain '
        f"VisionTransformer names; dropped {len(dropped)} classifier "
        f"tensor(s) ({', '.join(dropped) or 'none'})",
        logger='current')
    return converted


def _register_scheme() -> None:
    try:
        CheckpointLoader.register_scheme(TIMM_VIT_SCHEME, load_from_timm_vit)
    except KeyError:  # already registered (module imported twice)
        pass


_register_scheme()

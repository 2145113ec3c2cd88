"""Convert a timm (or TransReID) ViT checkpoint to mmpretrain's names.

The DCCT authors start their ViT-B/16 from the original 224 px ImageNet model
``jx_vit_base_p16_224-80ecf9dd.pth`` in timm's key names (the authors' public
code). This tool writes the same tensors under mmpretrain's
``VisionTransformer`` names (:func:`mmdcct.models.utils.convert_timm_vit`),
with the classifier dropped, so that MMEngine's plain ``Pretrained``
initializer loads it::

    python tools/model_converters/timm_vit_to_mmpretrain.py \\
        jx_vit_base_p16_224-80ecf9dd.pth vit-b-p16_jx-224_mmpretrain.pth
    # in a config (or --cfg-options):
    # model.backbone.transformer.init_cfg.checkpoint=\\
    #     vit-b-p16_jx-224_mmpretrain.pth

By default the 14x14 position grid is kept and ``VisionTransformer`` resizes
it when it loads the file, with its ``interpolate_mode`` (the R50 + ViT-B
configs set ``'bilinear'``, as the authors). ``--img-size 256 128`` resizes
it here instead, bilinearly (align_corners=False, class token kept), so the
file suits 256x128 frames whatever the model's ``interpolate_mode``.

Configs can also skip this step and load the timm file directly:
``checkpoint='timm-vit://<path or URL>'``. IN may be a local path or a URL;
it is read weights-only.
"""
import argparse
import os.path as osp
import re
import sys
from typing import Optional, Sequence

import torch
from mmengine.runner.checkpoint import CheckpointLoader

import mmdcct  # noqa: F401  (weights-only checkpoint loading)
from mmdcct.models.utils.timm_vit_converter import (TIMM_VIT_HEAD_PREFIXES,
                                                    TimmViTConversionError,
                                                    convert_timm_vit)


def resize_grid(state_dict: dict, img_size: Sequence[int]) -> tuple:
    """Resize ``pos_embed`` to the patch grid of ``img_size`` (bilinear).

    Args:
        state_dict (dict): Converted weights (mmpretrain names).
        img_size (Sequence[int]): ``(H, W)`` of the frames.

    Returns:
        tuple: The source and target grids ``((h, w), (h', w'))``.
    """
    # imported here, after mmdcct (which silences mmcv-lite's import warning)
    from mmpretrain.models.utils import resize_pos_embed
    pos_embed = state_dict['pos_embed']
    patch = state_dict['patch_embed.projection.weight'].shape[-2:]
    height, width = img_size
    if height % patch[0] or width % patch[1]:
        raise TimmViTConversionError(
            f'--img-size {height} {width} is not a multiple of the patch '
            f'size {tuple(patch)}')
    side = int(round((pos_embed.shape[1] - 1)**0.5))
    if side * side + 1 != pos_embed.shape[1]:
        raise TimmViTConversionError(
            f'pos_embed {tuple(pos_embed.shape)} is not a square grid plus a '
            'class token; --img-size resizes square (e.g. 224 px) grids only')
    src, dst = (side, side), (height // patch[0], width // patch[1])
    state_dict['pos_embed'] = resize_pos_embed(
        pos_embed, src, dst, mode='bilinear', num_extra_tokens=1)
    return src, dst


def convert_file(in_file: str,
                 out_file: str,
                 img_size: Optional[Sequence[int]] = None) -> dict:
    """Convert ``in_file`` and ``torch.save`` the state dict to ``out_file``.

    Returns:
        dict: ``num_tensors``, ``dropped`` (classifier keys) and ``grid``
        (``(src, dst)`` or ``None``).
    """
    if not in_file.startswith(('http://', 'https://')) and \
            not osp.isfile(in_file):
        raise FileNotFoundError(f'input checkpoint not found: {in_file}')
    if osp.realpath(in_file) == osp.realpath(out_file):
        raise ValueError(f'the output path equals the input path '
                         f'({in_file}); choose another output file')
    checkpoint = CheckpointLoader.load_checkpoint(in_file, 'cpu')
    state_dict = checkpoint
    for section in ('state_dict', 'model'):
        if isinstance(checkpoint, dict) and isinstance(
                checkpoint.get(section), dict):
            state_dict = checkpoint[section]
            break
    try:
        converted = convert_timm_vit(state_dict)
    except TimmViTConversionError as err:
        raise TimmViTConversionError(f'{in_file}: {err}') from None
    grid = resize_grid(converted, img_size) if img_size else None
    torch.save(converted, out_file)
    dropped = [
        k for k in state_dict
        if re.sub(r'^module\.', '', k).startswith(TIMM_VIT_HEAD_PREFIXES)
    ]
    return dict(num_tensors=len(converted), dropped=dropped, grid=grid)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Rename a timm / TransReID ViT checkpoint to '
        "mmpretrain's VisionTransformer names (classifier dropped).")
    parser.add_argument('in_file', help='timm ViT checkpoint (path or URL)')
    parser.add_argument('out_file', help='output state dict')
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='also resize the position grid bilinearly to the patch grid '
        'of H x W frames (e.g. 256 128)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    try:
        summary = convert_file(args.in_file, args.out_file, args.img_size)
    except (FileNotFoundError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(1)
    print(f"wrote {summary['num_tensors']} tensors to {args.out_file}; "
          f"dropped {', '.join(summary['dropped']) or 'nothing'}")
    if summary['grid']:
        src, dst = summary['grid']
        print(f'position grid resized bilinearly from {src[0]}x{src[1]} to '
              f'{dst[0]}x{dst[1]}')
    return summary


if __name__ == '__main__':
    main()

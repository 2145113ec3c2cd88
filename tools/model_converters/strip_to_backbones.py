"""Strip a DCCT checkpoint down to the coupled backbones (deployable model).

Self-distillation trains the backbones so well that the test feature
``model.test_cfg.feature='base'`` (the concatenated, time-averaged global
features of the CNN and the Transformer) needs neither CCA, HTA nor the
head. This tool keeps only the ``backbone.`` weights of a training
checkpoint (or of a bare state dict) and drops everything else: the necks,
the head (classifiers, BN-necks), the optimizer state, the message hub and
the parameter schedulers. The data preprocessor's ``mean`` / ``std`` are
non-persistent buffers (they come from the config, not the checkpoint).

Examples::

    python tools/model_converters/strip_to_backbones.py \\
        work_dirs/dcct_r50-vit-b_2xb8-50e_mars/epoch_50.pth \\
        work_dirs/dcct_mars_backbones.pth [--half] [--keep-meta]
    python tools/test.py \\
        configs/dcct/dcct-backbones_r50-vit-b_2xb8-50e_mars.py \\
        work_dirs/dcct_mars_backbones.pth

The input is loaded with torch's weights-only unpickler and mmdcct's
allow-list (:func:`mmdcct.utils.checkpoint_safety.safe_torch_load`; legacy
files are trusted per file with ``MMDCCT_TRUSTED_CHECKPOINTS``). The output,
``{'meta': ..., 'state_dict': ...}``, is written through a temporary file
and ``os.replace``, so an interrupted run never leaves a truncated file.
"""
import argparse
import os
import os.path as osp
import re
import sys
import tempfile
import time
from collections import OrderedDict
from typing import Any, Dict, Optional, Sequence

import torch

import mmdcct
from mmdcct.utils.checkpoint_safety import (UnsafeCheckpointError,
                                            safe_torch_load)

#: The state-dict prefix the ``feature='base'`` model needs.
KEEP_PREFIX = 'backbone.'

#: Training-only top-level entries of an MMEngine checkpoint.
TRAINING_SECTIONS = ('optimizer', 'message_hub', 'param_schedulers',
                     'ema_state_dict', 'hook_msgs')


class StripError(ValueError):
    """The input cannot be stripped (the message says why)."""


def _numel(state_dict: Dict[str, Any]) -> int:
    return sum(v.numel() for v in state_dict.values()
               if isinstance(v, torch.Tensor))


def _tensor_bytes(state_dict: Dict[str, Any]) -> int:
    return sum(v.numel() * v.element_size() for v in state_dict.values()
               if isinstance(v, torch.Tensor))


def _prefixes(keys: Sequence[str]) -> str:
    found = sorted({k.split('.', 1)[0] + ('.' if '.' in k else '')
                    for k in keys})
    return ', '.join(repr(p) for p in found) if found else 'none (empty)'


def load_state_dict_and_meta(in_file: str) -> tuple:
    """Load a training checkpoint or a bare state dict (weights-only).

    Args:
        in_file (str): The checkpoint.

    Returns:
        tuple: ``(state_dict, meta, sections)`` -- the model weights (a
        leading ``module.`` of wrapped models removed), the checkpoint's
        ``meta`` (``{}`` for a bare state dict) and the other top-level
        keys of the checkpoint (dropped).

    Raises:
        FileNotFoundError: If ``in_file`` does not exist.
        StripError: If it is not a checkpoint / state dict.
    """
    if not osp.isfile(in_file):
        raise FileNotFoundError(f'input checkpoint not found: {in_file}')
    checkpoint = safe_torch_load(in_file, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise StripError(f'{in_file} holds a {type(checkpoint).__name__}, '
                         'not a checkpoint dict or a state dict')
    if 'state_dict' in checkpoint:
        state_dict = checkpoint['state_dict']
        meta = checkpoint.get('meta') or {}
        sections = [k for k in checkpoint if k not in ('state_dict', 'meta')]
    else:  # a bare state dict (e.g. ``torch.save(model.state_dict())``)
        state_dict, meta, sections = checkpoint, {}, []
    if not isinstance(state_dict, dict) or not all(
            isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise StripError(f'{in_file}: the state dict must map names to '
                         'tensors')
    if not isinstance(meta, dict):
        meta = {}
    # weights saved from a DDP / DataParallel wrapper (as load_checkpoint)
    state_dict = OrderedDict(
        (re.sub(r'^module\.', '', k), v) for k, v in state_dict.items())
    return state_dict, meta, sections


def strip_state_dict(state_dict: Dict[str, torch.Tensor],
                     half: bool = False) -> 'OrderedDict[str, torch.Tensor]':
    """Keep the ``backbone.`` entries; fp16 floating tensors if ``half``.

    Raises:
        StripError: If no key starts with ``backbone.``.
    """
    kept = OrderedDict(
        (k, v) for k, v in state_dict.items() if k.startswith(KEEP_PREFIX))
    if not kept:
        raise StripError(
            f'no {KEEP_PREFIX!r} keys in the state dict; prefixes found: '
            f'{_prefixes(list(state_dict))}. Is this a VideoReID '
            '(CoupledBackbone / SingleBackbone) checkpoint?')
    if half:
        kept = OrderedDict((k, v.half() if v.is_floating_point() else v)
                           for k, v in kept.items())
    return kept


def atomic_save(obj: Any, out_file: str) -> None:
    """``torch.save`` to a temporary file next to ``out_file``, then
    ``os.replace`` it (the file is either the old one or complete)."""
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=out_dir, prefix=f'.{osp.basename(out_file)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out_file)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def strip_checkpoint(in_file: str,
                     out_file: str,
                     keep_meta: bool = False,
                     half: bool = False) -> dict:
    """Write the backbones-only checkpoint of ``in_file`` to ``out_file``.

    Args:
        in_file (str): A training checkpoint or a bare state dict.
        out_file (str): The output file; must differ from ``in_file``.
        keep_meta (bool): Keep the whole input ``meta`` (config text,
            epoch, seed ...); by default only the provenance below and the
            ``dataset_meta`` (used by ``mmdcct.apis.init_model``) are kept.
        half (bool): Store floating tensors as float16.

    Returns:
        dict: Summary -- key / element counts kept and dropped, dropped
        sections, tensor bytes and file sizes.

    Raises:
        FileNotFoundError: If ``in_file`` does not exist.
        StripError: If ``out_file`` is ``in_file`` or there is nothing to
            keep.
    """
    if osp.realpath(in_file) == osp.realpath(out_file):
        raise StripError(f'the output path equals the input path '
                         f'({in_file}); choose another output file')
    state_dict, meta, sections = load_state_dict_and_meta(in_file)
    kept = strip_state_dict(state_dict, half=half)
    dropped = [k for k in state_dict if k not in kept]
    summary = dict(
        kept_keys=len(kept),
        dropped_keys=len(dropped),
        kept_params=_numel(kept),
        dropped_params=_numel({k: state_dict[k] for k in dropped}),
        dropped_prefixes=sorted({k.split('.', 1)[0] for k in dropped}),
        dropped_sections=sorted(sections),
        kept_tensor_bytes=_tensor_bytes(kept),
        in_tensor_bytes=_tensor_bytes(state_dict))

    new_meta = dict(meta) if keep_meta else {}
    if not keep_meta and 'dataset_meta' in meta:
        new_meta['dataset_meta'] = meta['dataset_meta']
    new_meta.update(
        stripped_to='backbones',
        source_file=osp.basename(in_file),
        source_epoch=meta.get('epoch'),
        source_iter=meta.get('iter'),
        kept_keys=summary['kept_keys'],
        dropped_keys=summary['dropped_keys'],
        dropped_sections=summary['dropped_sections'],
        dtype='float16' if half else 'unchanged',
        mmdcct_version=mmdcct.__version__,
        strip_time=time.strftime('%Y%m%d_%H%M%S'))
    atomic_save(dict(meta=new_meta, state_dict=kept), out_file)
    summary.update(
        in_file_bytes=osp.getsize(in_file),
        out_file_bytes=osp.getsize(out_file))
    return summary


def _mib(num_bytes: int) -> str:
    return f'{num_bytes / 2**20:.2f} MiB'


def format_summary(summary: dict, in_file: str, out_file: str) -> str:
    """The lines printed by the command line tool."""
    ratio = summary['out_file_bytes'] / max(summary['in_file_bytes'], 1)
    sections = ', '.join(summary['dropped_sections']) or 'none'
    prefixes = ', '.join(summary['dropped_prefixes']) or 'none'
    return '\n'.join([
        f"kept    {summary['kept_keys']} keys, "
        f"{summary['kept_params']:,} parameters ({KEEP_PREFIX}*)",
        f"dropped {summary['dropped_keys']} keys, "
        f"{summary['dropped_params']:,} parameters ({prefixes})",
        f'dropped checkpoint sections: {sections}',
        f"input  {in_file}: {_mib(summary['in_file_bytes'])}",
        f"output {out_file}: {_mib(summary['out_file_bytes'])}",
        f'size ratio output / input: {ratio:.3f}',
    ])


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Keep only the backbone weights of a DCCT checkpoint '
        "(enough for model.test_cfg.feature='base'), without optimizer "
        'state, necks and head.')
    parser.add_argument('in_file', help='input checkpoint (or state dict)')
    parser.add_argument('out_file', help='output checkpoint')
    parser.add_argument(
        '--keep-meta',
        action='store_true',
        help='keep the whole input meta (config text, epoch, seed ...); '
        'by default only the provenance and dataset_meta')
    parser.add_argument(
        '--half',
        action='store_true',
        help='store floating-point tensors as float16')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    try:
        summary = strip_checkpoint(
            args.in_file,
            args.out_file,
            keep_meta=args.keep_meta,
            half=args.half)
    except (FileNotFoundError, StripError, UnsafeCheckpointError) as err:
        print(f'strip_to_backbones: error: {err}', file=sys.stderr)
        raise SystemExit(1)
    print(format_summary(summary, args.in_file, args.out_file))
    return summary


if __name__ == '__main__':
    main()

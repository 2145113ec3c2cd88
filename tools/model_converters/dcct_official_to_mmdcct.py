"""Convert a checkpoint of the DCCT authors' code into an mmdcct checkpoint.

The authors' public code saves ``nn.DataParallel(model).state_dict()``
(every key prefixed with ``module.``), bare or inside a dict such as
``{'state_dict': ...}``. This tool renames every tensor onto the
:class:`VideoReID` model of ``configs/dcct/dcct_r50-vit-b_2xb8-50e_mars.py``
(``CoupledBackbone`` of mmpretrain's ResNet-50 and VisionTransformer, the
``ComplementaryContentAttention`` and ``HierarchicalTemporalAggregation``
necks, the ``SelfDistillationHead``):

==============================================  ==============================
the authors' code                               mmdcct
==============================================  ==============================
``cnn_backbone.{0,1,4..7}``                     ``backbone.cnn.{conv1, bn1,
                                                layer1..layer4}``
``trans_backbone.patch_embed.proj``             ``backbone.transformer.
                                                patch_embed.projection``
``trans_backbone.blocks.i.{norm1, norm2}``      ``...layers.i.{ln1, ln2}``
``trans_backbone.blocks.i.mlp.{fc1, fc2}``      ``...layers.i.ffn.{layers.0.0,
                                                layers.1}``
``trans_backbone.norm``                         ``backbone.transformer.ln1``
``CCA_{cnn,trans}.linear_{glo,spa_1,v1}.0``     ``spatial_neck.{cnn,trans}_
                                                branch.{q,k,v}_self``
``CCA_*.linear_{fusion,spa_2,v2}.0``            ``...{q,k,v}_cross``
``CCA_*.norm1`` / ``linear_project.{0,2}``      ``...norm`` / ``mlp.{0,2}``
``HTA.align_projector_{1,2}.0``                 ``temporal_neck.align_{cnn,
                                                trans}``
``HTA.{cnn_TT,trans_TT,AT}_k``                  ``temporal_neck.{tt_cnn,
                                                tt_trans,at}.(k-1)``
  ``.blocks.0.{norm1,attn.qkv,norm2}``          ``.{norm1,attn.qkv,norm2}``
  ``.blocks.0.ffn.{fc1,fc2}`` / ``.norm``       ``.mlp.{0,2}`` / ``.norm_out``
``HTA.{cnn,trans}_GA_k.linear_project.0``       ``temporal_neck.ga_{cnn,trans}.
                                                (k-1).proj``
  ``.chanel_attention.{0,1}``                   ``.norm`` / ``.gate``
``bottleneck_{cnn,trans}_{base,spa}``           ``head.{frame,spatial}_necks.
                                                {0,1}.bn``
``classifier_{cnn,trans}_{base,spa}``           ``...classifier``
``bottleneck_final`` / ``classifier_final``     ``head.video_neck.{bn,
                                                classifier}``
``Hint_{cnn,trans}.0`` (feature distillation)   ``head.hints.{0,1}``
==============================================  ==============================

BatchNorm buffers (running statistics, ``num_batches_tracked``) are kept.
Dropped, because the authors' forward never uses them: the ViT's 1000-way
ImageNet head ``trans_backbone.fc``, and in every HTA block its
``cls_token`` and the attention output projection ``attn.proj`` (computed
but never applied). Any other key is an error that names it -- nothing is
dropped silently.

Loading the result needs the authors' variants of two modules, set by
``configs/dcct/dcct_r50-vit-b_official-ckpt_mars.py``: HTA without the
attention output projection (``attn_out_proj=False``) and a bias on the
classifier of the ViT base feature. The tool prints the config and any
further ``--cfg-options`` the checkpoint needs (no hint networks when it
was trained without feature distillation, another number of identities
...).

Example::

    python tools/model_converters/dcct_official_to_mmdcct.py \\
        mars_dcct_official.pth mars_dcct_mmdcct.pth
    python tools/test.py configs/dcct/dcct_r50-vit-b_official-ckpt_mars.py \\
        mars_dcct_mmdcct.pth

The input is read with ``torch.load(weights_only=True)``: the authors'
checkpoints hold only tensors (and plain numbers next to the state dict).
"""
import argparse
import os
import os.path as osp
import re
import sys
import tempfile
import time
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch

#: Config with every switch the authors' model needs (MARS, 625 ids).
OFFICIAL_CONFIG = 'configs/dcct/dcct_r50-vit-b_official-ckpt_mars.py'

#: Paper configs by number of training identities, for other datasets.
DATASET_CONFIGS = {
    625: 'configs/dcct/dcct_r50-vit-b_2xb8-50e_mars.py',
    702: 'configs/dcct/dcct_r50-vit-b_2xb8-50e_duke-video.py',
    150: 'configs/dcct/dcct_r50-vit-b_2xb8-50e_ilids-vid.py',
    89: 'configs/dcct/dcct_r50-vit-b_2xb8-50e_prid2011.py',
}

#: What the paper configs build (the official config changes nothing here).
CONFIG_DEFAULTS = dict(
    num_classes=625, embed_dims=512, depth=2, num_frames=8,
    mlp_ratios=(4.0, 0.25), num_patches=129)

_BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
_WB = r'(weight|bias)'
_HTA_BLOCK = r'^HTA\.(cnn_TT|trans_TT|AT)_(\d+)\.'
_RESNET = {'0': 'conv1', '1': 'bn1', '4': 'layer1', '5': 'layer2',
           '6': 'layer3', '7': 'layer4'}
_VIT_BLOCK = {'norm1': 'ln1', 'norm2': 'ln2', 'attn.qkv': 'attn.qkv',
              'attn.proj': 'attn.proj', 'mlp.fc1': 'ffn.layers.0.0',
              'mlp.fc2': 'ffn.layers.1'}
_CCA = {'linear_glo': 'q_self', 'linear_spa_1': 'k_self',
        'linear_v1': 'v_self', 'linear_fusion': 'q_cross',
        'linear_spa_2': 'k_cross', 'linear_v2': 'v_cross'}
_HTA_MODULE = {'cnn_TT': 'tt_cnn', 'trans_TT': 'tt_trans', 'AT': 'at'}
_HTA_INNER = {'norm1': 'norm1', 'attn.qkv': 'attn.qkv', 'norm2': 'norm2',
              'ffn.fc1': 'mlp.0', 'ffn.fc2': 'mlp.2'}
_BRANCH = {'cnn': '0', 'trans': '1'}
_NECK = {'base': 'frame_necks', 'spa': 'spatial_necks'}


def _layer(k: str) -> str:
    """The authors number HTA layers / gates from 1, ModuleLists from 0."""
    if int(k) < 1:
        raise KeyError(k)
    return str(int(k) - 1)


# (pattern, target) -- the target is a format string over the groups or a
# callable of the match; a KeyError from it means "not a known key".
RENAME_RULES: List[Tuple[str, Union[str, Callable]]] = [
    # ResNet-50 as nn.Sequential(conv1, bn1, relu, maxpool, layer1..4)
    (r'^cnn_backbone\.(\d+)\.(.+)$',
     lambda m: f'backbone.cnn.{_RESNET[m[1]]}.{m[2]}'),
    # TransReID's ViT (timm names) -> mmpretrain's VisionTransformer
    (r'^trans_backbone\.(cls_token|pos_embed)$', 'backbone.transformer.{0}'),
    (r'^trans_backbone\.patch_embed\.proj\.' + _WB + '$',
     'backbone.transformer.patch_embed.projection.{0}'),
    (r'^trans_backbone\.blocks\.(\d+)\.(norm1|norm2|attn\.qkv|attn\.proj|'
     r'mlp\.fc1|mlp\.fc2)\.' + _WB + '$',
     lambda m: f'backbone.transformer.layers.{m[1]}.{_VIT_BLOCK[m[2]]}.'
     f'{m[3]}'),
    (r'^trans_backbone\.norm\.' + _WB + '$', 'backbone.transformer.ln1.{0}'),
    # CCA, one module per branch
    (r'^CCA_(cnn|trans)\.(linear_\w+)\.0\.weight$',
     lambda m: f'spatial_neck.{m[1]}_branch.{_CCA[m[2]]}.weight'),
    (r'^CCA_(cnn|trans)\.norm1\.' + _WB + '$',
     'spatial_neck.{0}_branch.norm.{1}'),
    (r'^CCA_(cnn|trans)\.linear_project\.([02])\.weight$',
     'spatial_neck.{0}_branch.mlp.{1}.weight'),
    # HTA
    (r'^HTA\.align_projector_([12])\.0\.' + _WB + '$',
     lambda m: f"temporal_neck.align_{('cnn', 'trans')[int(m[1]) - 1]}."
     f'{m[2]}'),
    (_HTA_BLOCK + r'pos_embed$',
     lambda m: f'temporal_neck.{_HTA_MODULE[m[1]]}.{_layer(m[2])}.'
     'pos_embed'),
    (_HTA_BLOCK + r'blocks\.0\.(norm1|attn\.qkv|norm2|ffn\.fc1|ffn\.fc2)\.'
     + _WB + '$',
     lambda m: f'temporal_neck.{_HTA_MODULE[m[1]]}.{_layer(m[2])}.'
     f'{_HTA_INNER[m[3]]}.{m[4]}'),
    (_HTA_BLOCK + r'norm\.' + _WB + '$',
     lambda m: f'temporal_neck.{_HTA_MODULE[m[1]]}.{_layer(m[2])}.'
     f'norm_out.{m[3]}'),
    (r'^HTA\.(cnn|trans)_GA_(\d+)\.linear_project\.0\.weight$',
     lambda m: f'temporal_neck.ga_{m[1]}.{_layer(m[2])}.proj.weight'),
    (r'^HTA\.(cnn|trans)_GA_(\d+)\.chanel_attention\.0\.' + _BN + '$',
     lambda m: f'temporal_neck.ga_{m[1]}.{_layer(m[2])}.norm.{m[3]}'),
    (r'^HTA\.(cnn|trans)_GA_(\d+)\.chanel_attention\.1\.' + _WB + '$',
     lambda m: f'temporal_neck.ga_{m[1]}.{_layer(m[2])}.gate.{m[3]}'),
    # BN-necks, classifiers, hint networks
    (r'^bottleneck_(cnn|trans)_(base|spa)\.' + _BN + '$',
     lambda m: f'head.{_NECK[m[2]]}.{_BRANCH[m[1]]}.bn.{m[3]}'),
    (r'^classifier_(cnn|trans)_(base|spa)\.' + _WB + '$',
     lambda m: f'head.{_NECK[m[2]]}.{_BRANCH[m[1]]}.classifier.{m[3]}'),
    (r'^bottleneck_final\.' + _BN + '$', 'head.video_neck.bn.{0}'),
    (r'^classifier_final\.' + _WB + '$', 'head.video_neck.classifier.{0}'),
    (r'^Hint_(cnn|trans)\.0\.' + _WB + '$',
     lambda m: f'head.hints.{_BRANCH[m[1]]}.{m[2]}'),
]

#: Tensors the authors' forward never uses: (pattern, reason).
UNUSED_RULES: List[Tuple[str, str]] = [
    (r'^trans_backbone\.fc\.' + _WB + '$',
     "the ViT's 1000-way ImageNet head (unused)"),
    (_HTA_BLOCK + r'cls_token$', 'class token of an HTA block (never used)'),
    (_HTA_BLOCK + r'blocks\.0\.attn\.proj\.' + _WB + '$',
     'attention output projection of an HTA block (computed, never used)'),
]

_RENAME = [(re.compile(p), t) for p, t in RENAME_RULES]
_UNUSED = [(re.compile(p), r) for p, r in UNUSED_RULES]


class ConversionError(ValueError):
    """The input is not a checkpoint of the authors' DCCT code."""


def _rename(key: str) -> Optional[str]:
    for pattern, target in _RENAME:
        match = pattern.match(key)
        if match is None:
            continue
        try:
            if callable(target):
                return target(match)
            return target.format(*match.groups())
        except KeyError:  # e.g. cnn_backbone.2 (ReLU): try other rules
            continue
    return None


def _unused_reason(key: str) -> Optional[str]:
    for pattern, reason in _UNUSED:
        if pattern.match(key):
            return reason
    return None


def strip_module_prefix(
        state_dict: Dict[str, torch.Tensor]
) -> 'OrderedDict[str, torch.Tensor]':
    """Remove the ``module.`` prefix of ``nn.DataParallel`` / DDP."""
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state_dict.items())


def _infer(state_dict: Dict[str, torch.Tensor]) -> dict:
    """Read the model settings off the tensor shapes."""
    info = dict(hints=any(k.startswith('Hint_') for k in state_dict))
    if 'classifier_final.weight' in state_dict:
        info['num_classes'] = state_dict['classifier_final.weight'].shape[0]
    if 'HTA.align_projector_1.0.weight' in state_dict:
        info['embed_dims'] = state_dict[
            'HTA.align_projector_1.0.weight'].shape[0]
    layers = sorted({
        int(m[2])
        for m in (re.match(_HTA_BLOCK, k) for k in state_dict) if m
    })
    if layers:
        info['depth'] = layers[-1]
        pos = state_dict.get('HTA.cnn_TT_1.pos_embed')
        if pos is not None:
            info['num_frames'] = pos.shape[1]
        ratios = []
        for k in layers:
            fc1 = state_dict.get(f'HTA.cnn_TT_{k}.blocks.0.ffn.fc1.weight')
            if fc1 is not None:
                ratios.append(fc1.shape[0] / fc1.shape[1])
        if len(ratios) == len(layers):
            info['mlp_ratios'] = tuple(ratios)
    if 'trans_backbone.pos_embed' in state_dict:
        info['num_patches'] = state_dict['trans_backbone.pos_embed'].shape[1]
    info['classifier_bias'] = {
        part: tuple(f'classifier_{b}_{stage}.bias' in state_dict
                    for b in ('cnn', 'trans'))
        for part, stage in (('base', 'base'), ('spatial', 'spa'))
    }
    info['classifier_bias']['final'] = 'classifier_final.bias' in state_dict
    return info


def config_options(info: dict, official: bool = True) -> List[str]:
    """The ``--cfg-options`` that make the model match the checkpoint.

    Args:
        info (dict): What :func:`convert` read off the checkpoint.
        official (bool): Relative to :data:`OFFICIAL_CONFIG` (True) or to a
            paper config (False: the authors' switches are added too).

    Returns:
        list[str]: ``key=value`` items (empty if the config fits as is).
    """
    options = []
    if not official:
        options.append('model.temporal_neck.attn_out_proj=False')
    # the official config: dict(base=(False, True)); paper configs: False
    expected = dict(base=(False, official), spatial=(False, False),
                    final=False)
    for part, has_bias in info['classifier_bias'].items():
        if has_bias != expected[part]:
            options.append(
                f'model.head.classifier_bias.{part}={_fmt(has_bias)}')
    if not info['hints']:
        options.append('model.head.loss_fd=None')
    num_classes = info.get('num_classes')
    if num_classes is not None and (
            not official or num_classes != CONFIG_DEFAULTS['num_classes']):
        options.append(f'model.head.num_classes={num_classes}')
    for name in ('embed_dims', 'depth', 'num_frames', 'mlp_ratios'):
        if name in info and info[name] != CONFIG_DEFAULTS[name]:
            options.append(f'model.temporal_neck.{name}={_fmt(info[name])}')
    return options


def _fmt(value) -> str:
    if isinstance(value, tuple):
        return '(' + ','.join(_fmt(v) for v in value) + ')'
    return repr(value)


def convert(state_dict: Dict[str, torch.Tensor]
            ) -> Tuple['OrderedDict[str, torch.Tensor]', dict]:
    """Rename the authors' tensors onto mmdcct's DCCT model.

    Args:
        state_dict (dict[str, Tensor]): The authors' state dict, with or
            without the ``module.`` prefix.

    Returns:
        tuple[OrderedDict, dict]: The mmdcct state dict (the same tensor
        objects, new names) and a report: ``mapped`` (``{ours: theirs}``),
        ``dropped`` (``{theirs: reason}``), ``info`` (settings read off the
        shapes: ``hints``, ``num_classes``, ``embed_dims``, ``depth``,
        ``num_frames``, ``mlp_ratios``, ``num_patches``,
        ``classifier_bias``) and ``cfg_options`` (relative to
        :data:`OFFICIAL_CONFIG`).

    Raises:
        ConversionError: If a key is neither mapped nor a documented unused
            tensor, a value is not a tensor, or two keys map to one name.
    """
    state_dict = strip_module_prefix(state_dict)
    not_tensors = [k for k, v in state_dict.items()
                   if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise ConversionError(f'these entries are not tensors: '
                              f'{not_tensors[:10]}')
    converted, mapped, dropped, unknown = OrderedDict(), {}, {}, []
    for key, value in state_dict.items():
        reason = _unused_reason(key)
        if reason is not None:
            dropped[key] = reason
            continue
        new_key = _rename(key)
        if new_key is None:
            unknown.append(key)
            continue
        if new_key in converted:
            raise ConversionError(f'{key!r} and {mapped[new_key]!r} both map '
                                  f'to {new_key!r}')
        converted[new_key] = value
        mapped[new_key] = key
    if unknown:
        raise ConversionError(
            f'{len(unknown)} key(s) of the input are not part of the DCCT '
            f'authors\' model layout this tool knows: {unknown}. Nothing '
            'was written. Is this a checkpoint of their DCCT code (ResNet-50 '
            '+ ViT-B/16, CCA, HTA)? Extend RENAME_RULES / UNUSED_RULES in '
            'this tool if their code added a module.')
    if not converted:
        raise ConversionError('the input state dict is empty')
    info = _infer(state_dict)
    report = dict(mapped=mapped, dropped=dropped, info=info,
                  cfg_options=config_options(info))
    return converted, report


def load_authors_checkpoint(in_file: str) -> Dict[str, torch.Tensor]:
    """Read a bare state dict or ``{'state_dict': ...}`` (weights-only)."""
    if not osp.isfile(in_file):
        raise FileNotFoundError(f'input checkpoint not found: {in_file}')
    try:
        checkpoint = torch.load(in_file, map_location='cpu',
                                weights_only=True)
    except Exception as err:  # pickle errors have no common base class
        raise ConversionError(
            f'{in_file} cannot be read with torch.load(weights_only=True) '
            f'({type(err).__name__}: {err}). The authors\' checkpoints hold '
            'only tensors; re-save the state dict alone with '
            "torch.save(model.state_dict(), 'file.pth').") from err
    if not isinstance(checkpoint, dict):
        raise ConversionError(f'{in_file} holds a '
                              f'{type(checkpoint).__name__}, not a state '
                              'dict')
    if 'state_dict' in checkpoint:
        checkpoint = checkpoint['state_dict']
    elif not all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise ConversionError(
            f'{in_file} is neither a state dict nor a dict with a '
            f"'state_dict' entry; its top-level keys: {list(checkpoint)[:20]}")
    if not isinstance(checkpoint, dict):
        raise ConversionError(f"{in_file}: 'state_dict' is a "
                              f'{type(checkpoint).__name__}, not a dict')
    return checkpoint


def _atomic_save(obj, out_file: str) -> None:
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
        os.replace(tmp, out_file)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def load_command(report: dict, out_file: str) -> str:
    """The ``tools/test.py`` command that loads the converted file."""
    info = report['info']
    num_classes = info.get('num_classes', CONFIG_DEFAULTS['num_classes'])
    if num_classes == CONFIG_DEFAULTS['num_classes']:
        config, options = OFFICIAL_CONFIG, report['cfg_options']
    else:
        config = DATASET_CONFIGS.get(num_classes, '<your dataset config>')
        options = config_options(info, official=False)
    command = f'python tools/test.py {config} {out_file}'
    if options:
        command += ' --cfg-options ' + ' '.join(options)
    return command


def format_report(report: dict, out_file: str) -> str:
    """The lines the command line tool prints."""
    info = report['info']
    mapped, dropped = report['mapped'], report['dropped']
    numel = sum(v for v in report.get('numel', {}).values())
    reasons: Dict[str, int] = {}
    for reason in dropped.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    lines = [f'mapped  {len(mapped)} tensors'
             + (f' ({numel:,} elements)' if numel else '')]
    lines.append(f'dropped {len(dropped)} tensors the authors never use:')
    lines += [f'  {n:3d} x {r}' for r, n in reasons.items()]
    lines.append(
        f"feature-distillation hints: {'yes' if info['hints'] else 'no'}; "
        f"identities: {info.get('num_classes')}; HTA depth "
        f"{info.get('depth')}, D={info.get('embed_dims')}, "
        f"T={info.get('num_frames')}")
    if info.get('num_patches', 129) != CONFIG_DEFAULTS['num_patches']:
        lines.append(
            f"warning: the ViT position embedding has {info['num_patches']} "
            'tokens; the configs build 129 (1 + 16x8 patches of 256x128 '
            'frames), so the model needs another input size.')
    lines.append('switches (set in ' + OFFICIAL_CONFIG + '): '
                 'model.temporal_neck.attn_out_proj=False, '
                 'model.head.classifier_bias=dict(base=(False, True))')
    if not info['hints']:
        lines.append('no Hint_* tensors: trained without feature '
                     'distillation, so the model needs '
                     'model.head.loss_fd=None')
    lines.append('logit distillation has no weights; loss_ld does not '
                 'matter for loading or testing')
    lines.append('load it with:')
    lines.append('  ' + load_command(report, out_file))
    return '\n'.join(lines)


def convert_file(in_file: str, out_file: str) -> dict:
    """Convert ``in_file`` and write ``{'state_dict', 'meta'}`` to
    ``out_file``; returns the report of :func:`convert`."""
    if osp.exists(out_file) and osp.realpath(in_file) == osp.realpath(
            out_file):
        raise ConversionError(f'the output path equals the input path '
                              f'({in_file}); choose another output file')
    converted, report = convert(load_authors_checkpoint(in_file))
    report['numel'] = {k: v.numel() for k, v in converted.items()}
    meta = dict(
        converted_from="the DCCT authors' code",
        source_file=osp.basename(in_file),
        converter='tools/model_converters/dcct_official_to_mmdcct.py',
        config=OFFICIAL_CONFIG,
        cfg_options=list(report['cfg_options']),
        num_classes=report['info'].get('num_classes'),
        dropped_keys=sorted(report['dropped']),
        convert_time=time.strftime('%Y%m%d_%H%M%S'))
    _atomic_save(dict(state_dict=converted, meta=meta), out_file)
    return report


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Convert a checkpoint of the DCCT authors' code "
        '(nn.DataParallel state dict) into an mmdcct checkpoint.')
    parser.add_argument('in_file', help="the authors' checkpoint")
    parser.add_argument('out_file', help='output mmdcct checkpoint')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    try:
        report = convert_file(args.in_file, args.out_file)
    except (FileNotFoundError, ConversionError) as err:
        print(f'dcct_official_to_mmdcct: error: {err}', file=sys.stderr)
        raise SystemExit(1)
    print(format_report(report, args.out_file))
    return report


if __name__ == '__main__':
    main()

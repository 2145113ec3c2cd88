"""Export the test-feature model of a video Re-ID checkpoint to ONNX.

The exported graph maps a batch of tracklets ``(B, T, 3, H, W)``, already
normalised (the data preprocessor's work: channels in the order recorded in
the file, ``(pixel - mean) / std`` on 0–255 pixels), to one test feature per
tracklet ``(B, C)`` — the feature ``model(inputs, mode='tensor')`` returns
for one clip of ``T`` frames. Multi-clip (dense) testing, i.e. averaging the
features of several clips of a tracklet, is not part of the graph: run the
clips as a batch and average their features outside.

``--feature base`` exports the backbones only (DCCT's self-distillation lets
deployment drop CCA and HTA); ``all`` (or any ``test_cfg.feature`` value the
model has, e.g. ``base+final``) exports the necks and the BN-necks as well.
The batch axis is always dynamic; ``--dynamic`` also makes the frame axis
dynamic when the feature does not go through the temporal neck (HTA's
temporal position embeddings are built for the config's ``T``), and the
height and width when the backbone has no attention layers (a ViT's patch
position embeddings are fixed to the training size in the graph). The axes
that stay fixed are printed and recorded.

The file carries its contract in ``metadata_props``: ``feature``,
``stages``, ``branch``, ``num_frames``, ``height``, ``width``,
``feature_dim``, ``dynamic_axes``, ``channel_order``, ``mean``, ``std``
(JSON lists, 0–255 range), ``input_layout`` and ``multi_clip``.

After the export the file is checked with ``onnx.checker`` and run with
onnxruntime on random normalised inputs (the export batch size plus one, and
another ``T`` / ``H x W`` for the dynamic axes); the max absolute and
relative (``max |ONNX - PyTorch| / max |PyTorch|``) differences against
PyTorch are printed and must be within ``--rtol``.

Needs the ``deploy`` extra: ``pip install -e ".[deploy]"`` (onnx,
onnxruntime; ``--exporter dynamo`` also onnxscript).

Example::

    python tools/deployment/pytorch2onnx.py \\
        configs/dcct/dcct_r50-vit-b_2xb8-50e_mars.py dcct_mars.pth \\
        dcct_mars_base.onnx --feature base
"""
import argparse
import contextlib
import importlib
import json
import os
import os.path as osp
import sys
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import DictAction
from torch import nn

__all__ = [
    'ExportError', 'TestFeatureModule', 'require_deploy', 'build_model',
    'export_onnx', 'verify_onnx', 'read_metadata', 'main'
]

EXTRA_HINT = 'install the deploy extra: pip install -e ".[deploy]"'
#: Default opset per exporter (the dynamo exporter emits opset 18 and
#: cannot always convert down).
DEFAULT_OPSET = dict(torchscript=17, dynamo=18)
#: Lowest opset with an export of ``scaled_dot_product_attention``.
MIN_OPSET = 14


class ExportError(RuntimeError):
    """The model (or the requested feature) cannot be exported as asked."""


def require_deploy(*modules: str) -> List[object]:
    """Import the optional deployment packages or say which extra to install.

    Args:
        *modules (str): Module names, e.g. ``'onnx'``, ``'onnxruntime'``.

    Returns:
        list: The imported modules, in order.
    """
    imported = []
    for name in modules:
        try:
            imported.append(importlib.import_module(name))
        except ImportError as e:
            raise ImportError(
                f'ONNX export needs the package {name!r}, which is not '
                f'installed ({e}); {EXTRA_HINT}') from e
    return imported


class TestFeatureModule(nn.Module):
    """The model's test feature for one clip per tracklet, as one module.

    Args:
        model (nn.Module): A built ``VideoReID`` in eval mode.
        stages (Sequence[str]): Its ``resolve_test_stages()``.
    """

    def __init__(self, model: nn.Module, stages: Sequence[str]) -> None:
        super().__init__()
        self.model = model
        self.stages = tuple(stages)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(B, T, 3, H, W)`` normalised frames → ``(B, C)`` features."""
        # The per-clip feature, without extract_test_feat's per-tracklet
        # split into clips (a Python loop over B that would fix the batch
        # size in the graph); verify_onnx checks it against mode='tensor'.
        return self.model._clip_features(inputs, self.stages)


def build_model(config: str,
                checkpoint: str,
                feature: Optional[str] = None,
                cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the model with :func:`mmdcct.apis.init_model` (weights-only
    checkpoint loading) and select the test feature.

    Args:
        config (str): Config file.
        checkpoint (str): Checkpoint file.
        feature (str, optional): ``test_cfg.feature`` to export; None keeps
            the config's.
        cfg_options (dict, optional): Options merged into the config.

    Returns:
        nn.Module: The model on the CPU in eval mode.
    """
    from mmdcct.apis import init_model
    if not osp.isfile(config):
        raise ExportError(f'config file not found: {config}')
    if not osp.isfile(checkpoint):
        raise ExportError(f'checkpoint file not found: {checkpoint}')
    model = init_model(config, checkpoint, device='cpu',
                       cfg_options=cfg_options)
    if feature is not None:
        select_feature(model, feature)
    return model


def select_feature(model: nn.Module, feature: str) -> Tuple[str, ...]:
    """Set ``model.test_cfg.feature`` and return its stages, or refuse."""
    old = model.test_cfg.get('feature')
    model.test_cfg['feature'] = feature
    try:
        return tuple(model.resolve_test_stages())
    except ValueError as e:
        model.test_cfg['feature'] = old
        raise ExportError(f'cannot export feature {feature!r}: {e}') from e


def input_contract(model: nn.Module) -> Dict[str, object]:
    """Channel order, mean and std the caller must apply to 0–255 pixels.

    The test pipeline's ``LoadTrackletFrames.channel_order`` (``'rgb'`` by
    default), reversed if the data preprocessor has ``to_rgb``; the mean and
    std apply in that (model input) order.
    """
    from mmdcct.utils.complexity import find_type_dicts
    preprocessor = model.data_preprocessor
    if not all(hasattr(preprocessor, k) for k in ('mean', 'std')):
        raise ExportError(
            f'the data preprocessor {type(preprocessor).__name__} has no '
            'mean / std; the normalisation the ONNX input needs is unknown')
    order = 'rgb'
    cfg = getattr(model, 'cfg', None)
    if cfg is not None:
        pipeline = cfg.get('test_dataloader', {}).get('dataset', {}).get(
            'pipeline', [])
        loads = find_type_dicts(pipeline, 'LoadTrackletFrames')
        if loads:
            order = loads[0].get('channel_order', 'rgb')
    if getattr(preprocessor, 'to_rgb', False):
        order = 'bgr' if order == 'rgb' else 'rgb'
    return dict(
        channel_order=order.upper(),
        # float32 buffers: 6 significant digits give the config's values
        mean=[float(f'{v:.6g}') for v in preprocessor.mean.flatten()],
        std=[float(f'{v:.6g}') for v in preprocessor.std.flatten()])


def dynamic_support(model: nn.Module,
                    stages: Sequence[str]) -> Dict[str, Optional[str]]:
    """Which input axes can be dynamic: axis -> None, or why it cannot."""
    reasons: Dict[str, Optional[str]] = dict(batch=None, frames=None,
                                             height=None, width=None)
    if 'final' in stages:
        reasons['frames'] = (
            'the temporal neck (' + type(model.temporal_neck).__name__ +
            ') is built for T frames (temporal position embeddings)')
    attention = sorted({
        type(m).__name__
        for m in model.backbone.modules()
        if 'attention' in type(m).__name__.lower()
        or any(hasattr(m, n) for n in ('pos_embed', 'absolute_pos_embed'))
    })
    if attention:
        why = ('the backbone has attention / position embeddings fixed to '
               'the export size (' + ', '.join(attention[:3]) + ')')
        reasons['height'] = reasons['width'] = why
    return reasons


@contextlib.contextmanager
def explicit_softmax_attention(model: nn.Module):
    """Temporarily compute our attention layers (CCA, HTA) with the explicit
    softmax instead of ``scaled_dot_product_attention``; yields their
    names."""
    switched = [(name, m) for name, m in model.named_modules()
                if getattr(m, 'use_sdpa', None) is True]
    for _, m in switched:
        m.use_sdpa = False
    try:
        yield [name for name, _ in switched]
    finally:
        for _, m in switched:
            m.use_sdpa = True


def export_onnx(model: nn.Module,
                out_file: str,
                feature: Optional[str] = None,
                batch_size: int = 2,
                input_shape: Optional[Sequence[int]] = None,
                dynamic: bool = False,
                opset: Optional[int] = None,
                exporter: str = 'torchscript',
                extra_metadata: Optional[Dict[str, str]] = None) -> dict:
    """Export ``model``'s test feature to ``out_file`` and write its
    metadata.

    Args:
        model (nn.Module): A ``VideoReID`` in eval mode (on the CPU).
        out_file (str): The ``.onnx`` file to write.
        feature (str, optional): ``test_cfg.feature`` to export; None keeps
            the model's.
        batch_size (int): Batch size of the example input.
        input_shape (Sequence[int], optional): ``(T, H, W)``; defaults to
            the config's test shape.
        dynamic (bool): Also make ``T`` / ``H`` / ``W`` dynamic where the
            model supports it (see :func:`dynamic_support`).
        opset (int, optional): ONNX opset; defaults to
            :data:`DEFAULT_OPSET` of the exporter.
        exporter (str): ``'torchscript'`` (``torch.onnx.export(...,
            dynamo=False)``) or ``'dynamo'`` (``torch.export``-based; needs
            onnxscript).
        extra_metadata (dict, optional): More ``metadata_props``.

    Returns:
        dict: The metadata written (decoded), plus ``notes`` (list of str).
    """
    onnx, = require_deploy('onnx')
    if exporter not in ('torchscript', 'dynamo'):
        raise ExportError(f"exporter must be 'torchscript' or 'dynamo', "
                          f'got {exporter!r}')
    if opset is None:
        opset = DEFAULT_OPSET[exporter]
    if opset < MIN_OPSET:
        raise ExportError(
            f'opset {opset} is too old: the attention layers export '
            f'through scaled_dot_product_attention, opset >= {MIN_OPSET}; '
            f'use --opset {DEFAULT_OPSET[exporter]}')
    if exporter == 'dynamo':
        require_deploy('onnxscript')
    if feature is not None:
        select_feature(model, feature)
    stages = select_feature(model, model.test_cfg['feature'])
    if input_shape is None:
        from mmdcct.utils.complexity import config_input_shape
        input_shape = config_input_shape(model.cfg)
    num_frames, height, width = (int(v) for v in input_shape)
    notes: List[str] = []
    support = dynamic_support(model, stages)
    axes = ['batch'] + ([a for a, why in support.items()
                         if why is None and a != 'batch'] if dynamic else [])
    if dynamic:
        for axis, why in support.items():
            if why is not None:
                notes.append(f'{axis} axis fixed: {why}')
    dims = dict(batch=0, frames=1, height=3, width=4)
    module = TestFeatureModule(model, stages).eval()
    example = torch.randn(batch_size, num_frames, 3, height, width)

    sdpa_off = contextlib.nullcontext([])
    if exporter == 'dynamo':
        # the dynamo exporter translates only 4-D SDPA; CCA's is 3-D
        sdpa_off = explicit_softmax_attention(model)
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with sdpa_off as switched, torch.no_grad(), warnings.catch_warnings():
        if switched:
            notes.append('exported with the explicit-softmax attention '
                         '(use_sdpa=False) in: ' + ', '.join(switched))
        # the TorchScript exporter's deprecation and tracer warnings (Python
        # values of shapes fixed in the graph: checked by verify_onnx)
        warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', category=DeprecationWarning)
        warnings.filterwarnings('ignore', category=FutureWarning)
        try:
            if exporter == 'torchscript':
                torch.onnx.export(
                    module, (example, ), out_file, dynamo=False,
                    input_names=['inputs'], output_names=['feats'],
                    dynamic_axes=dict(
                        inputs={dims[a]: a for a in axes},
                        feats={0: 'batch'}),
                    opset_version=opset, do_constant_folding=True)
            else:
                shapes = {
                    dims[a]: (torch.export.Dim('batch', min=1)
                              if a == 'batch' else torch.export.Dim.AUTO)
                    for a in axes
                }
                program = torch.onnx.export(
                    module, (example, ), dynamo=True,
                    input_names=['inputs'], output_names=['feats'],
                    dynamic_shapes=(shapes, ), opset_version=opset)
                program.save(out_file, external_data=False)
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else ''
            raise ExportError(
                f'the {exporter} exporter cannot export feature '
                f'{model.test_cfg["feature"]!r} (stages {stages}) of this '
                f'model at opset {opset}: {type(e).__name__}: {first}. Try '
                "another feature (e.g. 'base': the backbones only), the "
                "other --exporter, or a newer --opset.") from e
    with torch.no_grad():
        feature_dim = int(module(example[:1]).shape[1])
    contract = input_contract(model)
    meta = dict(
        producer='mmdcct tools/deployment/pytorch2onnx.py',
        feature=str(model.test_cfg['feature']),
        stages=json.dumps(list(stages)),
        branch=str(model.test_cfg.get('branch')),
        input_layout='B,T,3,H,W float32, normalised',
        num_frames=str(num_frames),
        height=str(height),
        width=str(width),
        feature_dim=str(feature_dim),
        dynamic_axes=json.dumps(axes),
        channel_order=contract['channel_order'],
        mean=json.dumps(contract['mean']),
        std=json.dumps(contract['std']),
        normalisation='inputs = (pixels_0_255 - mean) / std per channel, '
        'channels in channel_order',
        multi_clip='one clip of T frames per tracklet; average the features '
        'of several clips of a tracklet outside the graph',
        exporter=exporter)
    from mmdcct import __version__
    meta['mmdcct_version'] = __version__
    meta.update(extra_metadata or {})
    proto = onnx.load(out_file)
    meta['opset'] = str(max(
        o.version for o in proto.opset_import if o.domain in ('', 'ai.onnx')))
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(proto, out_file)
    onnx.checker.check_model(out_file)
    return dict(meta, notes=notes)


def read_metadata(onnx_file: str) -> Dict[str, str]:
    """The ``metadata_props`` of an ONNX file as a dict."""
    onnx, = require_deploy('onnx')
    proto = onnx.load(onnx_file, load_external_data=False)
    return {p.key: p.value for p in proto.metadata_props}


def verify_onnx(model: nn.Module,
                onnx_file: str,
                shapes: Sequence[Sequence[int]],
                rtol: float = 1e-4,
                seed: int = 0) -> List[dict]:
    """Run the file with onnxruntime against ``model(x, mode='tensor')``.

    Args:
        model (nn.Module): The exported model (test_cfg as exported).
        onnx_file (str): The ``.onnx`` file.
        shapes (Sequence[Sequence[int]]): Input shapes ``(B, T, 3, H, W)``.
        rtol (float): Bound on ``max |Δ| / max |PyTorch|``.
        seed (int): Seed of the random normalised inputs.

    Returns:
        list[dict]: Per shape: ``shape``, ``max_abs``, ``max_rel``.
    """
    ort, = require_deploy('onnxruntime')
    session = ort.InferenceSession(onnx_file,
                                   providers=['CPUExecutionProvider'])
    gen = torch.Generator().manual_seed(seed)
    results = []
    for shape in shapes:
        inputs = torch.randn(*shape, generator=gen)
        with torch.no_grad():
            ref = model(inputs, mode='tensor').numpy()
        try:
            out = session.run(None, {'inputs': inputs.numpy()})[0]
        except Exception as e:
            raise ExportError(
                f'onnxruntime cannot run {onnx_file} on inputs of shape '
                f'{tuple(shape)}: {type(e).__name__}: {e}') from e
        if out.shape != ref.shape:
            raise ExportError(
                f'ONNX output shape {out.shape} != PyTorch {ref.shape} for '
                f'inputs {tuple(shape)}')
        max_abs = float(np.abs(out - ref).max())
        max_rel = max_abs / max(float(np.abs(ref).max()), 1e-12)
        results.append(dict(shape=list(shape), max_abs=max_abs,
                            max_rel=max_rel))
        print(f'verify {tuple(shape)}: max |ONNX - PyTorch| = '
              f'{max_abs:.3e}, relative {max_rel:.3e} (tolerance {rtol:g})')
        if not max_rel <= rtol:
            raise ExportError(
                f'{onnx_file} does not reproduce PyTorch on inputs '
                f'{tuple(shape)}: relative difference {max_rel:.3e} > '
                f'{rtol:g}')
    return results


def verify_shapes(meta: dict, batch_size: int) -> List[Tuple[int, ...]]:
    """The export shape, one more tracklet, and other sizes of the dynamic
    axes."""
    num_frames, height, width = (int(meta[k])
                                 for k in ('num_frames', 'height', 'width'))
    axes = json.loads(meta['dynamic_axes'])
    shapes = [(batch_size, num_frames, 3, height, width),
              (batch_size + 1, num_frames, 3, height, width)]
    other = (batch_size + 1,
             num_frames * 2 if 'frames' in axes else num_frames, 3,
             height + 32 if 'height' in axes else height,
             width + 16 if 'width' in axes else width)
    if other not in shapes:
        shapes.append(other)
    return shapes


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a video Re-ID model\'s test feature to ONNX')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('out', help='output .onnx file')
    parser.add_argument(
        '--feature', default=None,
        help="test feature: 'base' (the backbones only), 'all', a stage or "
        "'+'-joined stages (e.g. 'base+final'); default: the config's "
        'test_cfg.feature')
    parser.add_argument(
        '--shape', type=int, nargs=3, default=None, metavar=('T', 'H', 'W'),
        help='frames and frame size of the input (default: the config\'s '
        'test shape)')
    parser.add_argument('--batch-size', type=int, default=2,
                        help='batch size of the example input (the batch '
                        'axis is dynamic)')
    parser.add_argument(
        '--dynamic', action='store_true',
        help='also make T, H, W dynamic where the model supports it')
    parser.add_argument(
        '--opset', type=int, default=None,
        help='ONNX opset (default: 17 with the torchscript exporter, 18 '
        'with dynamo)')
    parser.add_argument(
        '--exporter', choices=('torchscript', 'dynamo'),
        default='torchscript',
        help="torch.onnx.export(dynamo=False) (default; fast, exports "
        "scaled_dot_product_attention as is) or the torch.export-based "
        "exporter (needs onnxscript; our attention layers then use their "
        "explicit softmax)")
    parser.add_argument(
        '--verify', action=argparse.BooleanOptionalAction, default=True,
        help='compare onnxruntime with PyTorch on random inputs')
    parser.add_argument('--rtol', type=float, default=1e-4,
                        help='max |ONNX - PyTorch| / max |PyTorch| allowed')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (as tools/test.py)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Export (and verify) as the command line asks; returns the metadata
    (plus ``verify``: the differences)."""
    args = parse_args(argv)
    require_deploy('onnx', 'onnxruntime')
    from mmdcct.utils import ignore_mmcv_lite_warning
    ignore_mmcv_lite_warning()
    if args.batch_size < 1:
        raise ExportError('--batch-size must be at least 1')
    model = build_model(args.config, args.checkpoint, args.feature,
                        args.cfg_options)
    meta = export_onnx(
        model, args.out, batch_size=args.batch_size,
        input_shape=args.shape, dynamic=args.dynamic, opset=args.opset,
        exporter=args.exporter,
        extra_metadata=dict(config=osp.basename(args.config)))
    print(f'exported feature {meta["feature"]!r} (stages '
          f'{", ".join(json.loads(meta["stages"]))}) to {args.out}: inputs '
          f'(B, {meta["num_frames"]}, 3, {meta["height"]}, '
          f'{meta["width"]}) -> feats (B, {meta["feature_dim"]}); dynamic '
          f'axes {", ".join(json.loads(meta["dynamic_axes"]))}')
    print(f'inputs: {meta["channel_order"]} channels, (pixels - mean) / '
          f'std with mean={meta["mean"]}, std={meta["std"]}')
    for note in meta['notes']:
        print(f'note: {note}')
    if args.verify:
        meta['verify'] = verify_onnx(
            model, args.out, verify_shapes(meta, args.batch_size),
            rtol=args.rtol)
    return meta


if __name__ == '__main__':
    try:
        main()
    except ExportError as e:
        print(f'pytorch2onnx: error: {e}', file=sys.stderr)
        sys.exit(1)

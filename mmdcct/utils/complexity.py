"""Parameters and FLOPs of video Re-ID models, per component.

FLOPs are counted with MMEngine's :class:`~mmengine.analysis.FlopAnalyzer`
(fvcore's counter): one fused multiply-add is one FLOP, element-wise ops
are not counted. Two ops that MMEngine does not know are added here:
``aten::scaled_dot_product_attention`` (used by mmpretrain's ViT attention and
HTA's temporal attention on torch >= 2) and ``aten::lstm`` (the Tab. VIII
LSTM aggregation).

The model runs in ``tensor`` mode (``VideoReID.extract_test_feat``) on
already-normalised inputs ``(B, T, 3, H, W)`` with ``test_cfg.feature``
temporarily set to the requested mode, so ``feature='base'`` counts exactly
what runs at test time in the efficient mode (the backbones only) and
``feature='all'`` the full model (backbones, spatial neck, temporal neck and
the head's BN-necks).
"""
from collections import Counter, OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config
from mmengine.analysis.jit_handles import get_shape

__all__ = [
    'UNCOUNTED_OPS', 'model_components',
    'count_component_params', 'model_complexity', 'sdpa_flop_jit',
    'lstm_flop_jit', 'config_input_shape', 'find_type_dicts'
]

#: Ops the counter skips on purpose (element-wise, pooling, reshaping): they
#: are left out of ``unsupported_ops`` so that only real gaps show up.
UNCOUNTED_OPS = frozenset({
    'aten::add', 'aten::add_', 'aten::sub', 'aten::rsub', 'aten::mul',
    'aten::mul_', 'aten::div', 'aten::div_', 'aten::neg', 'aten::mean',
    'aten::sum', 'aten::gelu', 'aten::relu', 'aten::relu_', 'aten::sigmoid',
    'aten::softmax', 'aten::tanh', 'aten::max_pool2d', 'aten::avg_pool2d',
    'aten::view_as', 'aten::pad', 'aten::constant_pad_nd', 'aten::roll',
    'aten::hardtanh', 'aten::hardtanh_', 'aten::clamp', 'aten::clamp_',
    'aten::dropout', 'aten::eq', 'aten::ne', 'aten::masked_fill',
    'aten::new_zeros', 'aten::linalg_vector_norm', 'aten::norm', 'aten::cat',
    'aten::stack', 'aten::pow'
})


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``aten::scaled_dot_product_attention``.

    ``q @ k^T`` costs ``L·S·E`` and ``attn @ v`` ``L·S·Ev`` multiply-adds
    per batch element and head, with ``q (…, L, E)``, ``k (…, S, E)`` and
    ``v (…, S, Ev)``; the softmax and scaling are element-wise (not counted).

    Args:
        inputs (list): The jit inputs ``(q, k, v, …)``.
        outputs (list): The jit outputs.

    Returns:
        int: The FLOP count.
    """
    q_shape, k_shape, v_shape = (get_shape(v) for v in inputs[:3])
    batch = 1
    for dim in q_shape[:-2]:
        batch *= dim
    length, embed = q_shape[-2:]
    source = k_shape[-2]
    return int(batch * length * source * (embed + v_shape[-1]))


def _constant(value: Any, default: Any) -> Any:
    """The constant value of a jit input, or ``default``."""
    try:
        out = value.toIValue()
    except Exception:  # pragma: no cover - not a constant
        return default
    return default if out is None else out


def lstm_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``aten::lstm`` (the four gate projections of every step).

    Per time step, batch element, layer and direction: ``4·H·(D_l + H)``
    multiply-adds, ``D_0`` the input width and ``D_l = H·directions`` above.

    Args:
        inputs (list): The jit inputs ``(input, hx, params, has_biases,
            num_layers, dropout, train, bidirectional, batch_first)``.
        outputs (list): The jit outputs ``(output, h, c)``.

    Returns:
        int: The FLOP count.
    """
    in_shape = get_shape(inputs[0])
    out_shape = get_shape(outputs[0])
    num_layers = int(_constant(inputs[4], 1))
    directions = 2 if bool(_constant(inputs[7], False)) else 1
    batch_first = bool(_constant(inputs[8], False))
    if len(in_shape) == 2:  # unbatched (T, D)
        steps, batch = in_shape[0], 1
    elif batch_first:
        batch, steps = in_shape[:2]
    else:
        steps, batch = in_shape[:2]
    hidden = out_shape[-1] // directions
    flops, width = 0, in_shape[-1]
    for _ in range(num_layers):
        flops += directions * steps * batch * 4 * hidden * (width + hidden)
        width = hidden * directions
    return int(flops)


def model_components(model: nn.Module) -> 'OrderedDict[str, str]':
    """The parts of a :class:`VideoReID` model to report separately.

    Args:
        model (nn.Module): A ``VideoReID``-like model with ``backbone`` and
            optional ``spatial_neck``, ``temporal_neck`` and ``head``.

    Returns:
        OrderedDict[str, str]: Display name -> module name. Each backbone
        branch (every direct child of the backbone that holds parameters:
        ``backbone.cnn`` / ``backbone.transformer`` of a coupled backbone,
        ``backbone.backbone`` of a single one) is its own entry.
    """
    parts: 'OrderedDict[str, str]' = OrderedDict()
    branches = [(name, child)
                for name, child in model.backbone.named_children()
                if any(True for _ in child.parameters())]
    if branches:
        for name, child in branches:
            parts[f'backbone.{name} ({type(child).__name__})'] = \
                f'backbone.{name}'
    else:
        parts['backbone'] = 'backbone'
    for name in ('spatial_neck', 'temporal_neck', 'head'):
        module = getattr(model, name, None)
        if module is not None:
            parts[f'{name} ({type(module).__name__})'] = name
    return parts


def _param_owner(name: str) -> str:
    return name.rpartition('.')[0]


def count_component_params(
    model: nn.Module,
    components: Optional['OrderedDict[str, str]'] = None,
    unused_modules: Sequence[str] = ()
) -> 'OrderedDict[str, int]':
    """Count the parameters of each component.

    Args:
        model (nn.Module): The model.
        components (OrderedDict[str, str], optional): Display name ->
            module name; defaults to :func:`model_components`.
        unused_modules (Sequence[str]): Module names whose *own* parameters
            are skipped (e.g. modules not called at inference).

    Returns:
        OrderedDict[str, int]: Parameters per component.
    """
    if components is None:
        components = model_components(model)
    unused = set(unused_modules)
    counts: 'OrderedDict[str, int]' = OrderedDict(
        (key, 0) for key in components)
    for pname, param in model.named_parameters():
        if _param_owner(pname) in unused:
            continue
        for key, prefix in components.items():
            if pname.startswith(prefix + '.'):
                counts[key] += param.numel()
                break
    return counts


def model_complexity(model: nn.Module,
                     num_frames: int = 8,
                     img_size: Tuple[int, int] = (256, 128),
                     feature: str = 'all',
                     batch_size: int = 1) -> Dict[str, Any]:
    """Parameters and FLOPs of a video Re-ID model in one test-feature mode.

    Args:
        model (nn.Module): A :class:`mmdcct.models.VideoReID` model. It is put
            in eval mode; its ``test_cfg['feature']`` is restored afterwards.
        num_frames (int): ``T``, frames per tracklet. Defaults to 8.
        img_size (tuple[int, int]): ``(H, W)``. Defaults to ``(256, 128)``.
        feature (str): ``test_cfg.feature`` to count: ``'base'`` (backbones
            only), ``'spatial'``, ``'final'`` or ``'all'``. Defaults to
            ``'all'``.
        batch_size (int): Tracklets in the dummy batch. Defaults to 1.

    Returns:
        dict: ``feature``; ``input_shape`` ``(B, T, 3, H, W)``; ``flops``
        (total) and ``flops_per_frame`` (``flops / (B·T)``); ``params``
        (all parameters of the model, training-only ones included) and
        ``params_inference`` (parameters of the modules this mode runs: e.g.
        no classifiers and hint networks, and in ``'base'`` mode no neck or
        head); ``components`` — an ``OrderedDict`` display name -> dict with
        ``module``, ``flops``, ``flops_per_frame``, ``params`` and
        ``params_inference``; ``unsupported_ops`` — ops the counter skipped
        (``Counter``) other than those of :data:`UNCOUNTED_OPS`.
    """
    components = model_components(model)
    height, width = img_size
    inputs = torch.randn(batch_size, num_frames, 3, height, width)
    was_training = model.training
    old_feature = model.test_cfg['feature']
    model.eval()
    model.test_cfg['feature'] = feature
    try:
        with torch.no_grad():
            analyzer = FlopAnalyzer(model, (inputs, ))
            analyzer.set_op_handle(
                **{
                    'aten::scaled_dot_product_attention': sdpa_flop_jit,
                    'aten::lstm': lstm_flop_jit,
                })
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            analyzer.tracer_warnings('none')
            total = analyzer.total()
            by_module = analyzer.by_module()
            unsupported = Counter({
                op: n
                for op, n in analyzer.unsupported_ops().items()
                if op not in UNCOUNTED_OPS
            })
            uncalled = analyzer.uncalled_modules()
    finally:
        model.test_cfg['feature'] = old_feature
        model.train(was_training)

    frames = batch_size * num_frames
    params = count_component_params(model, components)
    params_inf = count_component_params(model, components, uncalled)
    # parameters directly owned by the model itself (none in VideoReID)
    all_params = sum(p.numel() for p in model.parameters())
    inf_params = sum(p.numel() for n, p in model.named_parameters()
                     if _param_owner(n) not in uncalled)
    table: 'OrderedDict[str, Dict[str, Any]]' = OrderedDict()
    for key, module in components.items():
        flops = int(by_module.get(module, 0))
        table[key] = dict(
            module=module,
            flops=flops,
            flops_per_frame=flops / frames,
            params=params[key],
            params_inference=params_inf[key])
    return dict(
        feature=feature,
        input_shape=tuple(inputs.shape),
        flops=int(total),
        flops_per_frame=total / frames,
        params=all_params,
        params_inference=inf_params,
        components=table,
        unsupported_ops=unsupported)


def find_type_dicts(node: Any, type_name: str) -> List[dict]:
    """All dicts of ``type=type_name`` (any depth) in a config node."""
    found = []
    if isinstance(node, dict):
        if node.get('type') == type_name:
            found.append(node)
        for value in node.values():
            found.extend(find_type_dicts(value, type_name))
    elif isinstance(node, (list, tuple)):
        for value in node:
            found.extend(find_type_dicts(value, type_name))
    return found


def config_input_shape(cfg: Config) -> Tuple[int, int, int]:
    """``(T, H, W)`` of a config's test data, else ``(8, 256, 128)``.

    ``T`` is the temporal neck's ``num_frames`` or the test pipeline's
    frame sampling's ``num_frames``; ``(H, W)`` the test pipeline's
    resize scale (given as ``(w, h)``).
    """
    num_frames, height, width = 8, 256, 128
    pipeline = cfg.get('test_dataloader', {}).get('dataset',
                                                  {}).get('pipeline', [])
    sampling = [
        t for name in ('RestrictedRandomSampling', 'IntervalSampleFrames',
                       'EvenlySampleFrames')
        for t in find_type_dicts(pipeline, name)
    ]
    if sampling:
        num_frames = int(sampling[0].get('num_frames', num_frames))
    neck = cfg.model.get('temporal_neck')
    if neck and neck.get('num_frames'):
        num_frames = int(neck['num_frames'])
    resize = find_type_dicts(pipeline, 'mmcv.Resize') or find_type_dicts(pipeline, 'Resize')
    if resize and resize[0].get('scale'):
        width, height = resize[0]['scale']
    return num_frames, int(height), int(width)

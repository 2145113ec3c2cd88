"""Coupled Convolution-Transformer: two backbones run side by side."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmdcct.registry import MODELS

BranchFeatures = Tuple[torch.Tensor, torch.Tensor]

#: The frame size ``(H, W)`` a branch is probed at when neither the config
#: nor the branch gives one: the paper's 256x128 frames.
DEFAULT_PROBE_SIZE = (256, 128)

#: Per backbone class (or any base class of it), the switch that makes it
#: return a feature map or tokens instead of a pooled vector, or that fixes
#: a failure on re-ID frames.
OUTPUT_HINTS = {
    'VisionTransformer':
    "set out_type='raw' (tokens with the class token) or "
    "out_type='featmap' (the patch map)",
    'ConvNeXt':
    'set gap_before_final_norm=False (it pools the last stage by default; '
    'False keeps the map (N, C, H, W))',
    'SwinTransformer':
    'keep the last stage with out_indices=(3, ), set img_size to the frame '
    'size (H, W), and pad_small_map=True when the last-stage map is smaller '
    'than window_size (e.g. 256x128 frames: 8x4 < 7x7)',
    'SwinTransformerV2':
    'keep the last stage with out_indices=(3, ), set img_size to the frame '
    'size (H, W) and a window_size that divides every stage map',
    'TIMMBackbone':
    "TIMMBackbone removes the classifier with global_pool='' and returns "
    "forward_features' tokens or map; a model whose forward_head still "
    'pools (e.g. the distilled DeiTs average their class and distillation '
    'tokens) needs features_only=True (feature maps) or a non-distilled '
    'variant; timm ViTs also need img_size=(H, W) of the frames',
    'EfficientNet':
    'keep a map with out_indices=(6, ) (the final 1x1 conv)',
    'MobileNetV2':
    'keep a map with out_indices=(7, ) (the final 1x1 conv, the default)',
}

_GENERIC_HINT = (
    'use a backbone (or its out_indices / output switch) that returns its '
    'last feature map (N, C, H, W) or its tokens (N, L, C), not a pooled '
    'vector')


def _last_output(
        outs: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
    """The deepest output of a backbone that may return a tuple of stages."""
    while isinstance(outs, (tuple, list)):
        if len(outs) == 0:
            raise ValueError('The backbone returned no output.')
        outs = outs[-1]
    return outs


def output_hint(branch: nn.Module) -> str:
    """The switch to try for a branch whose output does not fit.

    Args:
        branch (nn.Module): The built backbone of the branch.

    Returns:
        str: A hint naming the setting of that backbone (looked up by its
        class and base classes), or a generic hint.
    """
    for cls in type(branch).__mro__:
        if cls.__name__ in OUTPUT_HINTS:
            hint = OUTPUT_HINTS[cls.__name__]
            return f'For {type(branch).__name__}: {hint}.'
    if hasattr(branch, 'gap_before_final_norm'):
        return (f'For {type(branch).__name__}: set '
                'gap_before_final_norm=False.')
    if hasattr(branch, 'out_type'):
        return f"For {type(branch).__name__}: set out_type='raw'."
    return f'For {type(branch).__name__}: {_GENERIC_HINT}.'


def _timm_model(branch: nn.Module) -> Optional[nn.Module]:
    """The timm model inside an ``mmpretrain.TIMMBackbone``, else None."""
    inner = getattr(branch, 'timm_model', None)
    return inner if isinstance(inner, nn.Module) else None


def prefix_tokens(branch: nn.Module) -> Tuple[int, bool]:
    """Tokens before the patch tokens in a branch's token output.

    mmpretrain transformers give ``num_extra_tokens`` (class and
    distillation tokens); timm models (inside ``mmpretrain.TIMMBackbone``)
    give ``num_prefix_tokens`` (class, distillation and register tokens).
    The class token, when there is one, comes first in both.

    Args:
        branch (nn.Module): The built backbone of the branch.

    Returns:
        tuple[int, bool]: The number of prefix tokens and whether the first
        one is a class token.
    """
    inner = _timm_model(branch)
    if inner is not None:
        num = int(getattr(inner, 'num_prefix_tokens', 0) or 0)
        has_cls = getattr(inner, 'cls_token', None) is not None
        return num, has_cls and num >= 1
    num = int(getattr(branch, 'num_extra_tokens', 0) or 0)
    has_cls = num >= 1 and getattr(branch, 'cls_token', True) is not None
    return num, has_cls


def native_input_size(branch: nn.Module) -> Optional[Tuple[int, int]]:
    """The frame size ``(H, W)`` a branch was built for, if it has one.

    Args:
        branch (nn.Module): The built backbone of the branch.

    Returns:
        tuple[int, int] | None: mmpretrain's ``patch_embed.init_input_size``
        (ViT, Swin) or timm's ``patch_embed.img_size``; None for backbones
        that take any size (CNNs).
    """
    inner = _timm_model(branch)
    embed = getattr(inner if inner is not None else branch, 'patch_embed',
                    None)
    for name in ('init_input_size', 'img_size'):
        size = getattr(embed, name, None)
        if isinstance(size, (tuple, list)) and len(size) == 2:
            return int(size[0]), int(size[1])
    return None


def split_features(branch: nn.Module,
                   outs,
                   global_type: str,
                   branch_name: str,
                   owner: str = 'CoupledBackbone') -> BranchFeatures:
    """Turn one branch's raw output into (local, global) features.

    A feature map ``(N, C, H, W)`` gives ``H·W`` local features (timm
    models with ``output_fmt='NHWC'``, e.g. Swin, are read as
    ``(N, H, W, C)``); tokens ``(N, E + L, C)`` give the ``L`` patch tokens,
    the ``E`` prefix tokens (:func:`prefix_tokens`) being dropped.

    Args:
        branch (nn.Module): The branch (to read its prefix tokens).
        outs: The branch output (tensor or tuple of stage outputs).
        global_type (str): ``'avg'`` (mean of the local features),
            ``'cls_token'`` (the class token; an error without one) or
            ``'auto'`` (the class token if there is one, else ``'avg'``).
        branch_name (str): For error messages.
        owner (str): Class name for error messages. Defaults to
            ``'CoupledBackbone'``.

    Returns:
        tuple[Tensor, Tensor]: local ``(N, L, C)`` and global ``(N, C)``.
    """
    out = _last_output(outs)
    has_cls = False
    if out.dim() == 4:
        inner = _timm_model(branch)
        if getattr(inner, 'output_fmt', 'NCHW') == 'NHWC':
            out = out.permute(0, 3, 1, 2)
        local = out.flatten(2).transpose(1, 2)
    elif out.dim() == 3:
        num_prefix, has_cls = prefix_tokens(branch)
        local = out[:, num_prefix:]
    else:
        raise ValueError(
            f'{owner}: the {branch_name} branch ({type(branch).__name__}) '
            f'returned a {out.dim()}-D tensor of shape {tuple(out.shape)}; '
            'expected a feature map (N, C, H, W) or tokens (N, L, C) for '
            f'the local features. {output_hint(branch)}')
    if local.shape[1] == 0:
        raise ValueError(
            f'{owner}: the {branch_name} branch ({type(branch).__name__}) '
            f'returned no local feature (output {tuple(out.shape)} holds '
            f'only prefix tokens). {output_hint(branch)}')
    if global_type == 'avg' or (global_type == 'auto' and not has_cls):
        glob = local.mean(dim=1)
    elif not has_cls:
        key = ('global_type'
               if branch_name == 'backbone' else f'{branch_name}_global')
        raise ValueError(
            f"{owner}: {key}='cls_token' needs a branch that outputs a class "
            f'token, but {type(branch).__name__} gives '
            f'{"a feature map" if out.dim() == 4 else "no class token"}; '
            f"use {key}='avg' (or 'auto').")
    else:
        glob = out[:, 0]
    return local, glob


def run_branch(owner: str, name: str, branch: nn.Module,
               frames: torch.Tensor):
    """Run a branch; its shape assertions become an error with a hint.

    Args:
        owner (str): Class name for error messages.
        name (str): The branch name, for error messages.
        branch (nn.Module): The backbone of the branch.
        frames (torch.Tensor): Frames ``(N, 3, H, W)``.

    Returns:
        The branch output.
    """
    try:
        return branch(frames)
    except AssertionError as err:  # timm / mmpretrain input-size checks
        raise ValueError(
            f'{owner}: the {name} branch ({type(branch).__name__}) fails on '
            f'{frames.shape[2]}x{frames.shape[3]} frames: '
            f"{str(err).rstrip('.')}. {output_hint(branch)}") from err


def probe_out_channels(owner: str,
                       branches: Sequence[Tuple[str, nn.Module, str]],
                       input_size: Optional[Sequence[int]] = None
                       ) -> Tuple[int, ...]:
    """Widths of the branches, from one dry forward of a blank frame.

    The forward runs without gradients, in eval mode (BN statistics are not
    updated; each module's training flag is restored) and with the RNG state
    restored, so building a model leaves training unchanged.

    Args:
        owner (str): Class name for error messages.
        branches (Sequence[tuple]): ``(name, module, global_type)`` of each
            branch.
        input_size (Sequence[int], optional): Frame size ``(H, W)``. None:
            the first branch's :func:`native_input_size`, else 256x128.

    Returns:
        tuple[int]: The global feature width of each branch (equal to its
        local width).
    """
    if input_size is None:
        sizes = [native_input_size(m) for _, m, _ in branches]
        input_size = next((s for s in sizes if s is not None),
                          DEFAULT_PROBE_SIZE)
    height, width = (int(s) for s in input_size)
    modules = [m for _, m, _ in branches]
    flags = {m: m.training for top in modules for m in top.modules()}
    widths = []
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            for name, module, global_type in branches:
                param = next(module.parameters(), None)
                frame = torch.zeros(
                    1, 3, height, width,
                    dtype=param.dtype if param is not None else None,
                    device=param.device if param is not None else None)
                module.eval()
                try:
                    outs = module(frame)
                except Exception as err:
                    raise ValueError(
                        f'{owner}: the {name} branch ({type(module).__name__})'
                        f' fails on a {height}x{width} frame: '
                        f"{type(err).__name__}: {str(err).rstrip('.')}. "
                        f'{output_hint(module)}') from err
                _, glob = split_features(module, outs, global_type, name,
                                         owner)
                widths.append(int(glob.shape[-1]))
    finally:
        for m, flag in flags.items():
            m.training = flag
    return tuple(widths)


@MODELS.register_module()
class CoupledBackbone(BaseModule):
    """Coupled Convolution-Transformer backbone (DCCT §III-A).

    Runs a CNN and a Transformer on every frame and returns, for each branch,
    its local features (spatial positions or patch tokens) and its global
    feature. Any backbone works in either slot as long as it returns a
    feature map ``(N, C, H, W)`` or a token sequence ``(N, E + L, C)`` whose
    first ``E`` tokens are prefix tokens (class, distillation or register
    tokens: mmpretrain's ``num_extra_tokens`` or timm's
    ``num_prefix_tokens``); e.g. ``mmpretrain.VisionTransformer`` with
    ``out_type='raw'``, ``mmpretrain.ResNet``, ``mmpretrain.MobileNetV2``,
    ``mmpretrain.SwinTransformer`` or ``mmpretrain.TIMMBackbone``.

    When built, each branch runs once on a blank frame (no gradient, eval
    mode, RNG state kept) to find its width, ``out_channels``, from which
    :class:`VideoReID` sets the widths of the necks and the head that the
    config leaves unset. A branch whose output does not fit fails there,
    with the setting to change for that backbone (:data:`OUTPUT_HINTS`).

    Args:
        cnn (dict): Config of the convolutional branch, e.g.
            ``dict(type='mmpretrain.ResNet', depth=50, strides=(1, 2, 2, 1))``.
        transformer (dict): Config of the transformer branch, e.g.
            ``dict(type='mmpretrain.VisionTransformer', out_type='raw')``.
        cnn_global (str): Global feature of the CNN branch: ``'avg'`` (global
            average pooling of the local features), ``'cls_token'`` or
            ``'auto'`` (as ``transformer_global``). Defaults to ``'avg'``.
        transformer_global (str): Global feature of the transformer branch:
            ``'cls_token'`` (the class token, the authors' code; an error for
            a branch without one), ``'avg'`` (GAP of the patch tokens, as the
            paper says) or ``'auto'`` (the class token if the branch has one,
            else GAP). Defaults to ``'auto'``.
        input_size (Sequence[int], optional): Frame size ``(H, W)`` of the
            build-time probe. None: the transformer's own image size (its
            ``img_size``), else 256x128. Only needed for a branch that
            accepts one frame size but does not record it.
        init_cfg (dict, optional): Initialisation config. Pretrained weights
            are usually given in each branch's own ``init_cfg``.

    Attributes:
        out_channels (tuple[int, int]): Widths ``(C1, C2)`` of the branches'
            local and global features.
    """

    GLOBAL_TYPES = ('avg', 'cls_token', 'auto')

    def __init__(self,
                 cnn: dict,
                 transformer: dict,
                 cnn_global: str = 'avg',
                 transformer_global: str = 'auto',
                 input_size: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('cnn_global', cnn_global),
                            ('transformer_global', transformer_global)):
            if value not in self.GLOBAL_TYPES:
                raise ValueError(f'CoupledBackbone: {name} must be one of '
                                 f'{self.GLOBAL_TYPES}, got {value!r}')
        self.cnn = MODELS.build(cnn)
        self.transformer = MODELS.build(transformer)
        self.cnn_global = cnn_global
        self.transformer_global = transformer_global
        self.out_channels = probe_out_channels(
            'CoupledBackbone',
            [('cnn', self.cnn, cnn_global),
             ('transformer', self.transformer, transformer_global)],
            input_size)

    def branch_types(self) -> Dict[str, str]:
        """Class names of the branches, for messages."""
        return dict(
            cnn=type(self.cnn).__name__,
            transformer=type(self.transformer).__name__)

    def forward(self,
                x: torch.Tensor) -> Tuple[BranchFeatures, BranchFeatures]:
        """Extract both branches' features of every frame.

        Args:
            x (torch.Tensor): Frames, shape ``(N, 3, H, W)`` with ``N = B·T``.

        Returns:
            tuple: ``((cnn_local, cnn_global), (trans_local, trans_global))``
            with local features ``(N, L_i, C_i)`` and global features
            ``(N, C_i)``.
        """
        cnn_feats = split_features(
            self.cnn, run_branch('CoupledBackbone', 'cnn', self.cnn, x),
            self.cnn_global, 'cnn')
        trans_feats = split_features(
            self.transformer,
            run_branch('CoupledBackbone', 'transformer', self.transformer,
                       x), self.transformer_global, 'transformer')
        return cnn_feats, trans_feats

"""CCA attention maps (Fig. 7) and Grad-CAM of the backbones (Fig. 8).

Both work on any :class:`~mmdcct.models.VideoReID` whose backbone is a
:class:`~mmdcct.models.CoupledBackbone` (branches ``'cnn'`` and
``'trans'``) or a :class:`~mmdcct.models.SingleBackbone` (branch
``'backbone'``; Grad-CAM only). Maps are returned per frame on the
branch's spatial grid: the CNN's last feature map ``(h, w)`` and the
transformer's patch grid (read from its ``patch_embed`` output, or the
factorisation of ``L`` closest to the frame's aspect ratio).

Grad-CAM (Selvaraju et al., ICCV 2017) is implemented by hand with forward
hooks: for the activation ``A`` of a branch (the CNN's last feature map;
for a transformer, its patch tokens, reshaped to the grid) and a score
``S`` of that branch's video-level global feature ``TAP(g)`` — its L2 norm
(``target='norm'``) or its identity logit through the branch's BN-neck
classifier (``target='logit'``) — ``alpha_c = mean_{xy} dS/dA_cxy`` and
``cam = ReLU(sum_c alpha_c A_c)``, scaled to ``[0, 1]`` per frame. When the
transformer's global feature is its class token, the output patch tokens
are not on the path of ``S`` (the class token of the last layer is computed
from the last layer's *input*), so the tokens entering the last block are
used, the usual choice for ViT Grad-CAM.

This module computes maps only; :class:`~mmdcct.visualization.
VideoReIDVisualizer` draws them (:meth:`~mmdcct.visualization.
VideoReIDVisualizer.draw_attention_figures`) and imports nothing from here.
"""
import inspect
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import pseudo_collate

__all__ = [
    'BranchProbe', 'get_branches', 'infer_grid', 'compute_cca_attention',
    'compute_grad_cam', 'tracklet_attention_maps'
]


def _deepest(output) -> torch.Tensor:
    """The last tensor of a branch output that may be a tuple of stages."""
    while isinstance(output, (tuple, list)):
        output = output[-1]
    return output


def get_branches(model: nn.Module) -> List[Tuple[str, nn.Module, str]]:
    """The branches of a video Re-ID model's backbone.

    Args:
        model (nn.Module): A ``VideoReID`` model.

    Returns:
        list[tuple[str, nn.Module, str]]: ``(name, module, global_type)``:
        ``('cnn', ..), ('trans', ..)`` for a ``CoupledBackbone``,
        ``('backbone', ..)`` for a ``SingleBackbone``.

    Raises:
        TypeError: For another backbone.
    """
    backbone = model.backbone
    if hasattr(backbone, 'cnn') and hasattr(backbone, 'transformer'):
        return [('cnn', backbone.cnn, backbone.cnn_global),
                ('trans', backbone.transformer, backbone.transformer_global)]
    if hasattr(backbone, 'backbone') and hasattr(backbone, 'global_type'):
        return [('backbone', backbone.backbone, backbone.global_type)]
    raise TypeError('Expected a CoupledBackbone or a SingleBackbone, got '
                    f'{type(backbone).__name__}')


def infer_grid(num_tokens: int, img_hw: Tuple[int, int]) -> Tuple[int, int]:
    """The ``(h, w)`` with ``h * w = num_tokens`` closest to the image shape.

    Args:
        num_tokens (int): ``L``.
        img_hw (tuple[int, int]): Frame ``(H, W)``.

    Returns:
        tuple[int, int]: The grid.
    """
    target = math.log(img_hw[0] / img_hw[1])
    best = None
    for h in range(1, num_tokens + 1):
        if num_tokens % h:
            continue
        w = num_tokens // h
        err = abs(math.log(h / w) - target)
        if best is None or err < best[0]:
            best = (err, h, w)
    return best[1], best[2]


class BranchProbe:
    """Record what the backbone branches compute during a forward.

    A context manager that hooks every branch of :func:`get_branches`:

    - ``outputs[name]``: the branch's last output tensor (the one the
      coupled backbone splits into local / global features);
    - ``grids[name]``: the patch grid ``(h, w)`` returned by the branch's
      ``patch_embed`` (token backbones), when it has one;
    - ``block_inputs[name]``: the tokens entering the branch's last block
      (``layers[-1]``), when ``record_block_input`` and the branch has
      ``layers``.

    Args:
        model (nn.Module): A ``VideoReID`` model.
        record_block_input (bool): Also record the last block's input.
            Defaults to False.
    """

    def __init__(self,
                 model: nn.Module,
                 record_block_input: bool = False) -> None:
        self.branches = get_branches(model)
        self.record_block_input = record_block_input
        self.outputs: Dict[str, torch.Tensor] = {}
        self.grids: Dict[str, Tuple[int, int]] = {}
        self.block_inputs: Dict[str, torch.Tensor] = {}
        self._handles: list = []

    def __enter__(self) -> 'BranchProbe':
        for name, module, _ in self.branches:
            self._handles.append(
                module.register_forward_hook(self._output_hook(name)))
            embed = getattr(module, 'patch_embed', None)
            if isinstance(embed, nn.Module):
                self._handles.append(
                    embed.register_forward_hook(self._grid_hook(name)))
            layers = getattr(module, 'layers', None)
            if self.record_block_input and isinstance(
                    layers, nn.ModuleList) and len(layers):
                self._handles.append(layers[-1].register_forward_pre_hook(
                    self._block_hook(name)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _output_hook(self, name: str):

        def hook(module, args, output):
            self.outputs[name] = _deepest(output)

        return hook

    def _grid_hook(self, name: str):

        def hook(module, args, output):
            if isinstance(output, (tuple, list)) and len(output) == 2:
                size = output[1]
                if isinstance(size,
                              (tuple, list, torch.Size)) and len(size) == 2:
                    self.grids[name] = (int(size[0]), int(size[1]))

        return hook

    def _block_hook(self, name: str):

        def hook(module, args):
            if args and isinstance(args[0], torch.Tensor):
                self.block_inputs[name] = args[0]

        return hook

    def num_extra_tokens(self, name: str) -> int:
        """Extra (class / distillation) tokens of a token branch."""
        module = dict((n, m) for n, m, _ in self.branches)[name]
        return int(getattr(module, 'num_extra_tokens', 0))

    def grid(self, name: str, num_tokens: int,
             img_hw: Tuple[int, int]) -> Tuple[int, int]:
        """The spatial grid of a branch with ``num_tokens`` positions.

        Args:
            name (str): Branch name.
            num_tokens (int): ``L``.
            img_hw (tuple[int, int]): Frame ``(H, W)`` (for the fallback).

        Returns:
            tuple[int, int]: ``(h, w)`` with ``h * w == num_tokens``.
        """
        out = self.outputs.get(name)
        if out is not None and out.dim() == 4 and \
                out.shape[-2] * out.shape[-1] == num_tokens:
            return int(out.shape[-2]), int(out.shape[-1])
        grid = self.grids.get(name)
        if grid is not None and grid[0] * grid[1] == num_tokens:
            return grid
        return infer_grid(num_tokens, img_hw)


def _check_inputs(inputs: torch.Tensor) -> None:
    """Raise unless ``inputs`` is a ``(B, T, 3, H, W)`` tensor."""
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 5:
        raise ValueError('inputs must be preprocessed tracklets (B, T, 3, H, '
                         f'W), got {getattr(inputs, "shape", type(inputs))}')


@torch.no_grad()
def compute_cca_attention(model: nn.Module,
                          inputs: torch.Tensor) -> Dict[str, np.ndarray]:
    """The CCA self / cross attention maps of every frame.

    Args:
        model (nn.Module): A ``VideoReID`` with a CCA spatial neck (one whose
            ``forward`` takes ``return_attention``).
        inputs (torch.Tensor): Preprocessed (normalised) tracklets
            ``(B, T, 3, H, W)`` on the model's device.

    Returns:
        dict[str, np.ndarray]: ``cnn_self``, ``cnn_cross`` ``(B, T, h1,
        w1)`` and ``trans_self``, ``trans_cross`` ``(B, T, h2, w2)`` float32
        softmax maps (each frame's map sums to 1); keys of disabled heads
        are absent.
    """
    _check_inputs(inputs)
    neck = getattr(model, 'spatial_neck', None)
    if neck is None or 'return_attention' not in inspect.signature(
            neck.forward).parameters:
        raise ValueError('The model has no spatial neck with attention maps '
                         '(ComplementaryContentAttention); CCA maps need a '
                         'DCCT-style model.')
    num_tracklets, num_frames = inputs.shape[:2]
    img_hw = tuple(inputs.shape[-2:])
    with BranchProbe(model) as probe:
        feats = model.backbone(inputs.flatten(0, 1))
    _, attn = neck(feats, return_attention=True)
    maps = {}
    for key, value in attn.items():
        branch = key.split('_')[0]
        h, w = probe.grid(branch, value.shape[1], img_hw)
        maps[key] = value.float().reshape(num_tracklets, num_frames, h,
                                          w).cpu().numpy()
    return maps


def _branch_logits(model: nn.Module, index: int,
                   video: torch.Tensor) -> torch.Tensor:
    """Identity logits of branch ``index``'s video feature ``(B, C)``."""
    head = getattr(model, 'head', None)
    necks = None
    if head is not None:
        necks = getattr(head, 'frame_necks', None) or getattr(
            head, 'necks', None)
    if necks is None or index >= len(necks):
        raise ValueError("target='logit' needs a head with one BN-neck "
                         'classifier per branch (BNNeckHead.necks or '
                         "SelfDistillationHead.frame_necks); use "
                         "target='norm'.")
    return necks[index](video)[1]


def compute_grad_cam(
    model: nn.Module,
    inputs: torch.Tensor,
    target: str = 'norm',
    class_index: Optional[Union[int, Sequence[int]]] = None
) -> Dict[str, np.ndarray]:
    """Grad-CAM of every backbone branch (see the module docstring).

    Args:
        model (nn.Module): A ``VideoReID`` model.
        inputs (torch.Tensor): Preprocessed tracklets ``(B, T, 3, H, W)``.
        target (str): ``'norm'`` (the L2 norm of the branch's ``TAP(g)``)
            or ``'logit'`` (its identity logit). Defaults to ``'norm'``.
        class_index (int | Sequence[int], optional): The identity of
            ``target='logit'``, one per tracklet or shared. Defaults to None
            (each branch's top-scoring identity).

    Returns:
        dict[str, np.ndarray]: Per branch (``cnn`` / ``trans`` or
        ``backbone``) the maps ``(B, T, h, w)`` float32 in ``[0, 1]``.
    """
    _check_inputs(inputs)
    if target not in ('norm', 'logit'):
        raise ValueError(f"target must be 'norm' or 'logit', got {target!r}")
    num_tracklets, num_frames = inputs.shape[:2]
    img_hw = tuple(inputs.shape[-2:])
    with torch.enable_grad(), BranchProbe(
            model, record_block_input=True) as probe:
        feats = model.backbone(inputs.flatten(0, 1))
        scores, acts = [], {}
        for index, (name, _, global_type) in enumerate(probe.branches):
            glob = feats[index][1]
            video = glob.reshape(num_tracklets, num_frames, -1).mean(dim=1)
            if target == 'norm':
                scores.append(video.norm(dim=1).sum())
            else:
                logits = _branch_logits(model, index, video)
                if class_index is None:
                    cls = logits.argmax(dim=1)
                else:
                    cls = torch.as_tensor(
                        class_index, device=logits.device).long().reshape(-1)
                    cls = cls.expand(num_tracklets) if cls.numel() == 1 \
                        else cls
                scores.append(logits.gather(1, cls[:, None]).sum())
            act = probe.outputs[name]
            if act.dim() == 3 and global_type == 'cls_token' and \
                    name in probe.block_inputs:
                act = probe.block_inputs[name]
            acts[name] = act
        grads = torch.autograd.grad(
            torch.stack(scores).sum(), list(acts.values()), allow_unused=True)
    maps = {}
    for (name, act), grad in zip(acts.items(), grads):
        act = act.detach().float()
        grad = torch.zeros_like(act) if grad is None else grad.float()
        if act.dim() == 4:  # (N, C, h, w)
            weights = grad.mean(dim=(2, 3), keepdim=True)
            cam = (weights * act).sum(dim=1)
        elif act.dim() == 3:  # (N, E + L, C) tokens
            extra = probe.num_extra_tokens(name)
            tokens, grad = act[:, extra:], grad[:, extra:]
            weights = grad.mean(dim=1, keepdim=True)
            cam = (weights * tokens).sum(dim=-1)  # (N, L)
            h, w = probe.grid(name, tokens.shape[1], img_hw)
            cam = cam.reshape(-1, h, w)
        else:
            raise ValueError(f'Branch {name!r} returned a {act.dim()}-D '
                             'activation; expected a feature map or tokens.')
        cam = cam.clamp(min=0)
        peak = cam.flatten(1).max(dim=1)[0].clamp(min=1e-12)
        cam = cam / peak[:, None, None]
        maps[name] = cam.reshape(num_tracklets, num_frames,
                                 *cam.shape[-2:]).cpu().numpy()
    return maps


def tracklet_attention_maps(
        model: nn.Module,
        data: dict,
        target: str = 'norm',
        class_index: Optional[int] = None) -> Dict[str, Optional[dict]]:
    """The CCA and Grad-CAM maps of one tracklet (Fig. 7 / Fig. 8).

    Args:
        model (nn.Module): A ``VideoReID`` model.
        data (dict): One tracklet as the test pipeline packs it (e.g.
            :meth:`mmdcct.apis.VideoReIDInferencer.prepare`): ``inputs``
            ``(T, 3, H, W)`` uint8 and ``data_samples``.
        target (str): Grad-CAM target, ``'norm'`` or ``'logit'``.
        class_index (int, optional): Identity of ``target='logit'``.

    Returns:
        dict: ``frames`` (``(T, H, W, 3)`` uint8 RGB, the frames the model
        sees), ``cca`` (:func:`compute_cca_attention` maps, or None for a
        model without a CCA neck) and ``grad_cam``
        (:func:`compute_grad_cam` maps), each map ``(1, T, h, w)``.
    """
    frames = data['inputs'].permute(0, 2, 3, 1).cpu().numpy()
    inputs = model.data_preprocessor(pseudo_collate([data]), False)['inputs']
    if isinstance(inputs, (list, tuple)):
        inputs = torch.stack(list(inputs))
    cca = None
    if getattr(model, 'spatial_neck', None) is not None:
        cca = compute_cca_attention(model, inputs)
    return dict(
        frames=frames,
        cca=cca,
        grad_cam=compute_grad_cam(model, inputs, target, class_index))

"""A single backbone with the coupled backbone's output contract."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from mmdcct.registry import MODELS
from .coupled_backbone import (BranchFeatures, CoupledBackbone,
                               probe_out_channels, run_branch,
                               split_features)

__all__ = ['SingleBackbone']


@MODELS.register_module()
class SingleBackbone(BaseModule):
    """One backbone branch, for the single-branch rows of Tab. IV / Tab. V.

    It returns what :class:`CoupledBackbone` returns, but for one branch: a
    1-tuple ``((local, global), )``. :class:`VideoReID` and
    :class:`BNNeckHead` treat the branches as a tuple of any length, so a
    single-branch model is ``VideoReID(backbone=SingleBackbone(...),
    head=BNNeckHead(in_channels=(C, )))``: the video feature is
    ``TAP(GAP(F))`` (or the class token), as the paper's single-backbone
    baselines ("we drop their fully-connected layers and apply GAP and TAP").
    The necks of DCCT (CCA, HTA) need two branches and cannot be used. As
    :class:`CoupledBackbone`, it probes its width (``out_channels``) when
    built, and :class:`VideoReID` gives it to a head whose config leaves
    ``in_channels`` unset.

    Args:
        backbone (dict): Config of the backbone, e.g.
            ``dict(type='mmpretrain.ResNet', depth=50, strides=(1, 2, 2, 1))``
            or ``dict(type='mmpretrain.VisionTransformer', out_type='raw')``.
            It must return a feature map ``(N, C, H, W)`` or tokens
            ``(N, E + L, C)`` (``E = num_extra_tokens``), possibly inside a
            tuple of stage outputs (the last one is used).
        global_type (str): ``'avg'`` (global average pooling of the local
            features), ``'cls_token'`` (the class token; needs a token
            backbone with a class token) or ``'auto'`` (the class token if
            there is one, else ``'avg'``). Defaults to ``'avg'``.
        input_size (Sequence[int], optional): Frame size ``(H, W)`` of the
            build-time probe; see :class:`CoupledBackbone`.
        init_cfg (dict, optional): Initialisation config. Pretrained weights
            are usually given in the backbone's own ``init_cfg``.
    """

    GLOBAL_TYPES = CoupledBackbone.GLOBAL_TYPES

    def __init__(self,
                 backbone: dict,
                 global_type: str = 'avg',
                 input_size: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if global_type not in self.GLOBAL_TYPES:
            raise ValueError(f'SingleBackbone: global_type must be one of '
                             f'{self.GLOBAL_TYPES}, got {global_type!r}')
        self.backbone = MODELS.build(backbone)
        self.global_type = global_type
        self.out_channels = probe_out_channels(
            'SingleBackbone', [('backbone', self.backbone, global_type)],
            input_size)

    def branch_types(self) -> Dict[str, str]:
        """Class name of the branch, for messages."""
        return dict(backbone=type(self.backbone).__name__)

    def forward(self, x: torch.Tensor) -> Tuple[BranchFeatures]:
        """Extract the branch's features of every frame.

        Args:
            x (torch.Tensor): Frames, shape ``(N, 3, H, W)`` with ``N = B·T``.

        Returns:
            tuple: ``((local, global), )`` with local features ``(N, L, C)``
            and the global feature ``(N, C)``.
        """
        return (split_features(
            self.backbone,
            run_branch('SingleBackbone', 'backbone', self.backbone, x),
            self.global_type,
            'backbone',
            owner='SingleBackbone'), )

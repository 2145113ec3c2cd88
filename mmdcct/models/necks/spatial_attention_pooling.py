"""Spatial Attention Pooling (SAP): the Tab. VIII alternative to CCA."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmdcct.registry import MODELS

__all__ = ['SpatialAttentionPooling']

BranchFeatures = Tuple[torch.Tensor, torch.Tensor]


@MODELS.register_module()
class SpatialAttentionPooling(BaseModule):
    """Per-branch learned spatial attention pooling of the local features.

    For each branch separately (no cross-branch interaction, which is what
    distinguishes it from CCA in Tab. VIII): a score per position
    ``s = Linear(C→C/r) – ReLU – Linear(C/r→1)`` over the local features
    ``L`` ``(N, L, C)``, ``A = softmax_L(s)`` and ``y = A L`` ``(N, C)``.
    The branches' global features are not used. Same forward contract as
    :class:`ComplementaryContentAttention`.

    Args:
        in_channels (Sequence[int]): ``(C1, C2)``, branch widths. Defaults
            to ``(2048, 768)``.
        reduction (int): Hidden width ratio ``r`` of the scoring MLP
            (hidden width ``max(1, C // r)``). Defaults to 16.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    BRANCHES = ('cnn', 'trans')

    def __init__(self,
                 in_channels: Sequence[int] = (2048, 768),
                 reduction: int = 16,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = tuple(int(c) for c in in_channels)
        if len(in_channels) != 2:
            raise ValueError('SpatialAttentionPooling expects two branches, '
                             f'got in_channels={in_channels}')
        if reduction < 1:
            raise ValueError(f'reduction must be >= 1, got {reduction}')
        self.in_channels = in_channels
        self.reduction = reduction
        self.scorers = nn.ModuleList(
            nn.Sequential(
                nn.Linear(c, max(1, c // reduction)), nn.ReLU(inplace=True),
                nn.Linear(max(1, c // reduction), 1)) for c in in_channels)

    def forward(
        self,
        feats: Tuple[BranchFeatures, BranchFeatures],
        return_attention: bool = False
    ) -> Union[Tuple[torch.Tensor, torch.Tensor], Tuple[Tuple[
            torch.Tensor, torch.Tensor], Dict[str, torch.Tensor]]]:
        """Pool every frame's local features.

        Args:
            feats (tuple): ``((cnn_local (N, L1, C1), cnn_global (N, C1)),
                (trans_local (N, L2, C2), trans_global (N, C2)))``.
            return_attention (bool): Also return the attention maps.

        Returns:
            tuple: ``(y_cnn (N, C1), y_trans (N, C2))``; with
            ``return_attention`` the pair ``((y_cnn, y_trans), attn)`` with
            ``attn['cnn']`` ``(N, L1)`` and ``attn['trans']`` ``(N, L2)``.
        """
        if len(feats) != 2:
            raise ValueError('SpatialAttentionPooling expects the features '
                             f'of two branches, got {len(feats)}')
        outs, attn = [], {}
        for name, scorer, (local, _), width in zip(self.BRANCHES,
                                                   self.scorers, feats,
                                                   self.in_channels):
            if local.dim() != 3 or local.shape[-1] != width:
                raise ValueError(
                    f'SAP: the {name} local features must have shape '
                    f'(N, L, {width}), got {tuple(local.shape)}')
            weights = scorer(local).squeeze(-1).softmax(dim=-1)  # (N, L)
            outs.append((weights.unsqueeze(1) @ local).squeeze(1))
            attn[name] = weights
        if return_attention:
            return tuple(outs), attn
        return tuple(outs)

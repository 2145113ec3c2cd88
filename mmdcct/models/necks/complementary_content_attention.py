"""Complementary Content Attention (CCA), DCCT §III-B."""
import math
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmdcct.registry import MODELS

__all__ = ['ComplementaryContentAttention', 'CCABranch']

BranchFeatures = Tuple[torch.Tensor, torch.Tensor]
HeadSwitch = Union[bool, Sequence[bool]]


def _per_branch(flag: HeadSwitch, name: str) -> Tuple[bool, bool]:
    """Expand a head switch to ``(cnn, transformer)`` flags."""
    if isinstance(flag, bool):
        return flag, flag
    flags = tuple(flag) if isinstance(flag, (list, tuple)) else ()
    if len(flags) != 2 or not all(isinstance(f, bool) for f in flags):
        raise ValueError(
            f'CCA: {name} must be a bool or a pair of bools (cnn, '
            f'transformer), e.g. {name}=(False, True) to remove the head '
            f'of the CNN branch only; got {flag!r}')
    return flags


class CCABranch(BaseModule):
    """CCA for one branch: a self-attention and a cross-attention head.

    With ``L`` the branch's local features ``(N, L, C)``, ``qs = mean_L(L)``
    its own global query ``(N, C)`` and ``qo`` the other branch's global
    feature ``(N, C')``; ``K = max(1, C // 2)`` is the query/key width of
    each head and all projections are bias-free:

    - SH: ``As = softmax((qs Wq_s)(L Wk_s)^T / sqrt(K))``,
      ``vs = As (L Wv_s)``;
    - CH: ``Ao = softmax((qo Wq_o)(L Wk_o)^T / sqrt(K))``, ``vo = Ao (L Wv_o)``
      with ``Wq_o: C' → K``;
    - ``z = [vs, vo] + qs``; ``y = z + MLP(LN(z))``, MLP = Linear(C→C) – ReLU
      – Linear(C→C), bias-free.

    Value widths: with both heads, ``vs`` has ``C − C // 2`` channels and
    ``vo`` has ``C // 2`` (both ``C / 2`` for even ``C``, as in the paper; for
    odd ``C`` the self head takes the extra channel) so that ``[vs, vo]`` has
    width ``C``. With one head switched off (Tab. VI) the remaining head's
    value projection maps to ``C``; its query/key width stays ``K``.

    Args:
        in_channels (int): ``C``, width of this branch.
        other_channels (int): ``C'``, width of the other branch's global
            feature (the cross query).
        self_head (bool): Use the self-attention head. Defaults to True.
        cross_head (bool): Use the cross-attention head. Defaults to True.
        detach_cross_query (bool): Stop the gradient into the cross query
            (the authors' code). Defaults to True.
        use_sdpa (bool): Compute the heads with
            :func:`torch.nn.functional.scaled_dot_product_attention` (fused
            kernels on GPU) whenever the attention maps are not requested;
            ``False`` always uses the explicit softmax. Same result up to
            float rounding. Defaults to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 other_channels: int,
                 self_head: bool = True,
                 cross_head: bool = True,
                 detach_cross_query: bool = True,
                 use_sdpa: bool = True,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not (self_head or cross_head):
            raise ValueError('CCA needs at least one of self_head and '
                             'cross_head; with neither, drop the spatial '
                             'neck (spatial_neck=None) instead.')
        if in_channels < 2 or other_channels < 1:
            raise ValueError('CCA needs in_channels >= 2 and other_channels '
                             f'>= 1, got {in_channels} and {other_channels}')
        self.in_channels = in_channels
        self.other_channels = other_channels
        self.self_head = self_head
        self.cross_head = cross_head
        self.detach_cross_query = detach_cross_query
        self.use_sdpa = use_sdpa
        self.key_dims = max(1, in_channels // 2)
        if self_head and cross_head:
            self_value = in_channels - in_channels // 2
            cross_value = in_channels // 2
        else:
            self_value = cross_value = in_channels
        if self_head:
            self.q_self = nn.Linear(in_channels, self.key_dims, bias=False)
            self.k_self = nn.Linear(in_channels, self.key_dims, bias=False)
            self.v_self = nn.Linear(in_channels, self_value, bias=False)
        if cross_head:
            self.q_cross = nn.Linear(
                other_channels, self.key_dims, bias=False)
            self.k_cross = nn.Linear(in_channels, self.key_dims, bias=False)
            self.v_cross = nn.Linear(in_channels, cross_value, bias=False)
        self.norm = nn.LayerNorm(in_channels)
        self.mlp = nn.Sequential(
            nn.Linear(in_channels, in_channels, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(in_channels, in_channels, bias=False))

    def _attend(
        self,
        query: torch.Tensor,
        local: torch.Tensor,
        q_proj: nn.Module,
        k_proj: nn.Module,
        v_proj: nn.Module,
        need_map: bool = True
    ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Single-query attention over the local features.

        Args:
            query (torch.Tensor): Global query, shape ``(N, C_q)``.
            local (torch.Tensor): Local features, shape ``(N, L, C)``.
            q_proj, k_proj, v_proj (nn.Module): The projections.
            need_map (bool): Return the attention map (forces the explicit
                softmax). Defaults to True.

        Returns:
            tuple[torch.Tensor, torch.Tensor | None]: The attended value
            ``(N, C_v)`` and the attention map ``(N, L)`` (None when not
            needed and computed by the fused kernel).
        """
        q = q_proj(query).unsqueeze(1)  # (N, 1, K)
        k = k_proj(local)  # (N, L, K)
        v = v_proj(local)  # (N, L, C_v)
        if self.use_sdpa and not need_map:
            # SDPA's default scale is 1/sqrt(K), the paper's.
            return F.scaled_dot_product_attention(q, k, v).squeeze(1), None
        logits = (q @ k.transpose(1, 2)).squeeze(1) / math.sqrt(self.key_dims)
        attn = logits.softmax(dim=-1)  # (N, L)
        value = (attn.unsqueeze(1) @ v).squeeze(1)  # (N, C_v)
        return value, attn

    def forward(
        self,
        local: torch.Tensor,
        other_global: torch.Tensor,
        need_maps: bool = True
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Refine the frame features of this branch.

        Args:
            local (torch.Tensor): Own local features, shape ``(N, L, C)``.
            other_global (torch.Tensor): The other branch's global feature,
                shape ``(N, C')``.
            need_maps (bool): Return the attention maps. Defaults to True.

        Returns:
            tuple[torch.Tensor, dict]: ``y`` of shape ``(N, C)`` and a dict
            with the attention maps ``'self'`` / ``'cross'`` ``(N, L)`` of
            the enabled heads (empty when ``need_maps`` is False).
        """
        query = local.mean(dim=1)  # qs, (N, C)
        values, maps = [], {}
        if self.self_head:
            value, maps['self'] = self._attend(query, local, self.q_self,
                                               self.k_self, self.v_self,
                                               need_maps)
            values.append(value)
        if self.cross_head:
            cross_query = (
                other_global.detach()
                if self.detach_cross_query else other_global)
            value, maps['cross'] = self._attend(cross_query, local,
                                                self.q_cross, self.k_cross,
                                                self.v_cross, need_maps)
            values.append(value)
        if not need_maps:
            maps = {}
        z = torch.cat(values, dim=1) + query
        return z + self.mlp(self.norm(z)), maps


@MODELS.register_module()
class ComplementaryContentAttention(BaseModule):
    """Complementary Content Attention over the coupled backbone's output.

    One :class:`CCABranch` per branch (weights not shared): the CNN branch's
    cross head is queried by the transformer's global feature and vice
    versa. See :class:`CCABranch` for the equations, the head ablation and
    how odd widths are split. A head can be removed in one branch only (Tab.
    VI): only that branch's remaining head then maps its values to the full
    width; the other branch keeps both heads.

    Args:
        in_channels (Sequence[int]): ``(C1, C2)``, widths of the CNN and the
            transformer branch. Defaults to ``(2048, 768)``.
        self_head (bool | Sequence[bool]): Use the self-attention heads: one
            flag for both branches or a pair ``(cnn, transformer)``, e.g.
            ``(False, True)`` removes the SH of the CNN branch only (Tab.
            VI). Defaults to True.
        cross_head (bool | Sequence[bool]): Use the cross-attention heads,
            as ``self_head``. Defaults to True.
        detach_cross_query (bool): Detach the other branch's global feature
            used as the cross query, so that CCA sends no gradient into the
            other branch (the authors' code). Defaults to True.
        use_sdpa (bool): Use ``F.scaled_dot_product_attention`` when the
            attention maps are not requested (see :class:`CCABranch`).
            Defaults to True.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to PyTorch's initialisation of the layers.
    """

    BRANCHES = ('cnn', 'trans')

    def __init__(self,
                 in_channels: Sequence[int] = (2048, 768),
                 self_head: HeadSwitch = True,
                 cross_head: HeadSwitch = True,
                 detach_cross_query: bool = True,
                 use_sdpa: bool = True,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = tuple(int(c) for c in in_channels)
        if len(in_channels) != 2:
            raise ValueError('ComplementaryContentAttention expects two '
                             f'branches (CNN, transformer), got in_channels='
                             f'{in_channels}')
        self.in_channels = in_channels
        #: ``(cnn, transformer)`` flags of each kind of head.
        self.self_head = _per_branch(self_head, 'self_head')
        self.cross_head = _per_branch(cross_head, 'cross_head')
        for i, name in enumerate(('CNN', 'transformer')):
            if not (self.self_head[i] or self.cross_head[i]):
                raise ValueError(
                    f'CCA: the {name} branch has neither a self nor a cross '
                    f'head (self_head={self_head}, cross_head={cross_head});'
                    ' keep at least one head per branch, or drop the spatial '
                    'neck (spatial_neck=None).')
        self.detach_cross_query = detach_cross_query
        self.cnn_branch = CCABranch(in_channels[0], in_channels[1],
                                    self.self_head[0], self.cross_head[0],
                                    detach_cross_query, use_sdpa)
        self.trans_branch = CCABranch(in_channels[1], in_channels[0],
                                      self.self_head[1], self.cross_head[1],
                                      detach_cross_query, use_sdpa)

    def forward(
        self,
        feats: Tuple[BranchFeatures, BranchFeatures],
        return_attention: bool = False
    ) -> Union[Tuple[torch.Tensor, torch.Tensor], Tuple[Tuple[
            torch.Tensor, torch.Tensor], Dict[str, torch.Tensor]]]:
        """Apply CCA to every frame.

        Args:
            feats (tuple): The coupled backbone output ``((cnn_local,
                cnn_global), (trans_local, trans_global))`` with locals of
                shape ``(N, L1, C1)`` / ``(N, L2, C2)`` and globals of shape
                ``(N, C1)`` / ``(N, C2)``, ``N = B·T`` frames.
            return_attention (bool): Also return the attention maps.
                Defaults to False.

        Returns:
            tuple: ``(y_cnn (N, C1), y_trans (N, C2))``; with
            ``return_attention`` the pair ``((y_cnn, y_trans), attn)`` where
            ``attn`` holds ``cnn_self``, ``cnn_cross`` ``(N, L1)`` and
            ``trans_self``, ``trans_cross`` ``(N, L2)`` softmax maps (the
            keys of a disabled head are absent).
        """
        if len(feats) != 2:
            raise ValueError('ComplementaryContentAttention expects the '
                             'features of two branches, got '
                             f'{len(feats)}')
        (cnn_local, cnn_global), (trans_local, trans_global) = feats
        for name, local, width in (('cnn', cnn_local, self.in_channels[0]),
                                   ('trans', trans_local,
                                    self.in_channels[1])):
            if local.dim() != 3 or local.shape[-1] != width:
                raise ValueError(
                    f'CCA: the {name} local features must have shape '
                    f'(N, L, {width}), got {tuple(local.shape)}')
        y_cnn, cnn_maps = self.cnn_branch(cnn_local, trans_global,
                                          return_attention)
        y_trans, trans_maps = self.trans_branch(trans_local, cnn_global,
                                                return_attention)
        if not return_attention:
            return y_cnn, y_trans
        attn = {f'cnn_{k}': v for k, v in cnn_maps.items()}
        attn.update({f'trans_{k}': v for k, v in trans_maps.items()})
        return (y_cnn, y_trans), attn

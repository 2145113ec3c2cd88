"""Hierarchical Temporal Aggregation (HTA), DCCT §III-C."""
from numbers import Number
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmdcct.registry import MODELS
from ..utils import GatedAttention, TemporalTransformerBlock

__all__ = ['HierarchicalTemporalAggregation']


def _layer_mlp_ratios(mlp_ratios: Union[float, Sequence[float]],
                      depth: int) -> List[float]:
    """Expand ``mlp_ratios`` to one MLP ratio per layer.

    Args:
        mlp_ratios (float | Sequence[float]): One ratio for every layer; a
            pair ``(first, rest)`` — layer 1 uses ``first``, layers ``>= 2``
            use ``rest``; or a list of ``depth`` per-layer ratios.
        depth (int): Number of layers.

    Returns:
        list[float]: ``depth`` ratios.
    """
    if isinstance(mlp_ratios, Number):
        return [float(mlp_ratios)] * depth
    ratios = [float(r) for r in mlp_ratios]
    if len(ratios) == depth:
        return ratios
    if len(ratios) == 2:
        return [ratios[0]] + [ratios[1]] * (depth - 1)
    raise ValueError(
        f'mlp_ratios must be a number, a pair (first layer, other layers) '
        f'or one ratio per layer (depth={depth}), got {mlp_ratios}')


@MODELS.register_module()
class HierarchicalTemporalAggregation(BaseModule):
    """Hierarchical Temporal Aggregation of the two branches' frame features.

    The per-frame features of the CNN and the transformer branch (usually
    the CCA outputs) are aligned to ``D = embed_dims`` with a Linear (with
    bias) each, then ``depth`` layers run:

    - layer ``l >= 2`` (if ``gated_attention``): a Gated Attention per
      branch delivers the previous video feature ``v_{l-1}`` (``2D``) into
      the branch's frame features (see :class:`GatedAttention`);
    - (if ``temporal_transformer``) ``x_c = TT_c(x_c)``, ``x_t = TT_t(x_t)``;
    - (if ``aggregate_transformer``) ``a = AT([x_c, x_t])`` on the
      concatenation (``2D``), otherwise ``a = [x_c, x_t]``;
    - ``v_l = mean_T(a)``.

    ``x_c``, ``x_t`` (the TT / GA outputs, not the AT output) go on to the
    next layer; the video feature is ``f = v_depth`` of width ``2D``. A TT or
    AT is a :class:`TemporalTransformerBlock` (learnable temporal position
    embedding, pre-norm MHSA with qkv bias, pre-norm GELU MLP, final
    LayerNorm with eps 1e-6). A switched-off stage is the identity, so the
    ablations of Tab. VII are: TT only (``aggregate_transformer=False,
    gated_attention=False``: ``v = mean_T([TT_c(x_c), TT_t(x_t)])``),
    TT + AT (``gated_attention=False``) and TT + AT + GA (the default). GA
    only acts from layer 2 on, so it has no effect with ``depth=1`` unless
    ``first_layer_gate`` is set.

    ``first_layer_gate`` (off by default) also gates layer 1, with the
    video feature of an identity "layer 0", ``v_0 = mean_T([x_c, x_t])``
    of the aligned inputs, as the previous video feature. The paper's GA
    delivers the previous layer's aggregated feature, which layer 1 lacks,
    yet Tab. VII lists a one-layer "TT + AT + GA" row: this switch is our
    reading of that row.

    Args:
        in_channels (Sequence[int]): ``(C1, C2)``, widths of the CNN and
            transformer frame features. Defaults to ``(2048, 768)``.
        embed_dims (int): ``D``. The video feature has ``2D`` channels.
            Defaults to 512.
        depth (int): Number of layers, ``>= 1``. Depth 0 (Fig. 5: CCA only)
            is a model without HTA: set its ``temporal_neck=None``.
            Defaults to 2.
        num_heads (int): Attention heads of every TT / AT. Defaults to 8.
        mlp_ratios (float | Sequence[float]): MLP ratio of the TTs / ATs:
            ``(first layer, other layers)`` or one per layer. Defaults to
            ``(4.0, 0.25)`` (the authors' code).
        num_frames (int): ``T``, the length of the temporal position
            embeddings; must equal the sampler's number of frames.
            Defaults to 8.
        temporal_transformer (bool): Use the TTs. Defaults to True.
        aggregate_transformer (bool): Use the ATs. Defaults to True.
        gated_attention (bool): Use the GAs (layers ``>= 2``). Defaults to
            True.
        first_layer_gate (bool): With ``gated_attention``, also gate layer 1
            with ``v_0 = mean_T([x_c, x_t])`` (Tab. VII's one-layer GA row).
            Defaults to False.
        detach_input (bool): Detach the input features, so HTA's losses do
            not reach CCA / the backbones (the authors' code). Defaults to
            True.
        attn_out_proj (bool): Output projection in the MHSA; False is the
            authors' variant. Defaults to True.
        use_sdpa (bool): Attention of every block through
            ``F.scaled_dot_product_attention`` (fused kernels on GPU); False
            computes the same with an explicit softmax. Defaults to True.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to truncated-normal (std 0.02) Linear weights with zero
            bias and unit LayerNorm (ViT style).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (2048, 768),
                 embed_dims: int = 512,
                 depth: int = 2,
                 num_heads: int = 8,
                 mlp_ratios: Union[float, Sequence[float]] = (4.0, 0.25),
                 num_frames: int = 8,
                 temporal_transformer: bool = True,
                 aggregate_transformer: bool = True,
                 gated_attention: bool = True,
                 first_layer_gate: bool = False,
                 detach_input: bool = True,
                 attn_out_proj: bool = True,
                 use_sdpa: bool = True,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
                dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
            ]
        super().__init__(init_cfg=init_cfg)
        in_channels = tuple(int(c) for c in in_channels)
        if len(in_channels) != 2:
            raise ValueError('HierarchicalTemporalAggregation expects two '
                             f'branches, got in_channels={in_channels}')
        if depth < 1:
            raise ValueError(
                f'HierarchicalTemporalAggregation needs depth >= 1, got '
                f'{depth}. Depth 0 means no HTA (CCA only): build the model '
                'with temporal_neck=None instead.')
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.out_channels = 2 * embed_dims
        self.depth = depth
        self.num_frames = num_frames
        self.mlp_ratios = _layer_mlp_ratios(mlp_ratios, depth)
        self.temporal_transformer = temporal_transformer
        self.aggregate_transformer = aggregate_transformer
        self.gated_attention = gated_attention
        self.first_layer_gate = first_layer_gate
        self.detach_input = detach_input

        self.align_cnn = nn.Linear(in_channels[0], embed_dims)
        self.align_trans = nn.Linear(in_channels[1], embed_dims)

        def block(dims: int, ratio: float) -> TemporalTransformerBlock:
            return TemporalTransformerBlock(
                dims,
                num_frames,
                num_heads=num_heads,
                mlp_ratio=ratio,
                attn_out_proj=attn_out_proj,
                use_sdpa=use_sdpa)

        ratios = self.mlp_ratios
        self.tt_cnn = self.tt_trans = self.at = None
        self.ga_cnn = self.ga_trans = None
        self.first_ga_cnn = self.first_ga_trans = None
        if temporal_transformer:
            self.tt_cnn = nn.ModuleList(block(embed_dims, r) for r in ratios)
            self.tt_trans = nn.ModuleList(
                block(embed_dims, r) for r in ratios)
        if aggregate_transformer:
            self.at = nn.ModuleList(
                block(2 * embed_dims, r) for r in ratios)
        if gated_attention and depth > 1:
            self.ga_cnn = nn.ModuleList(
                GatedAttention(embed_dims, 2 * embed_dims)
                for _ in range(depth - 1))
            self.ga_trans = nn.ModuleList(
                GatedAttention(embed_dims, 2 * embed_dims)
                for _ in range(depth - 1))
        if first_layer_gate:
            if not gated_attention:
                raise ValueError('first_layer_gate=True needs '
                                 'gated_attention=True')
            self.first_ga_cnn = GatedAttention(embed_dims, 2 * embed_dims)
            self.first_ga_trans = GatedAttention(embed_dims, 2 * embed_dims)

    def forward(
        self,
        feats: Sequence[torch.Tensor],
        return_gates: bool = False
    ) -> Union[torch.Tensor, Tuple[torch.Tensor, List[Tuple[torch.Tensor,
                                                            torch.Tensor]]]]:
        """Aggregate the frames of every tracklet into a video feature.

        Args:
            feats (Sequence[torch.Tensor]): ``(x_cnn, x_trans)`` of shapes
                ``(B, T, C1)`` and ``(B, T, C2)``.
            return_gates (bool): Also return the GA gates. Defaults to False.

        Returns:
            torch.Tensor | tuple: The video feature ``f`` of shape
            ``(B, 2·embed_dims)``; with ``return_gates`` the pair
            ``(f, gates)`` where ``gates`` lists, for each layer ``>= 2``
            with GA (and layer 1 with ``first_layer_gate``), the gates
            ``(g_cnn, g_trans)`` each ``(B, T, D)``.

        Raises:
            ValueError: If ``T`` differs from ``num_frames``.
        """
        if len(feats) != 2:
            raise ValueError('HierarchicalTemporalAggregation expects the '
                             f'features of two branches, got {len(feats)}')
        x_cnn, x_trans = feats
        if x_cnn.dim() != 3 or x_trans.dim() != 3:
            raise ValueError('HTA expects (B, T, C) inputs, got shapes '
                             f'{tuple(x_cnn.shape)} and '
                             f'{tuple(x_trans.shape)}')
        num_frames = x_cnn.shape[1]
        if num_frames != self.num_frames or x_trans.shape[1] != num_frames:
            raise ValueError(
                f'HierarchicalTemporalAggregation was built with num_frames='
                f'{self.num_frames} (its temporal position embeddings) but '
                f'got {num_frames} (CNN) / {x_trans.shape[1]} (transformer) '
                'frames per tracklet; set the sampler\'s num_frames and the '
                'neck\'s num_frames to the same value.')
        if self.detach_input:
            x_cnn, x_trans = x_cnn.detach(), x_trans.detach()
        x_cnn = self.align_cnn(x_cnn)
        x_trans = self.align_trans(x_trans)

        gates: List[Tuple[torch.Tensor, torch.Tensor]] = []
        video = None
        if self.first_ga_cnn is not None:
            video = torch.cat([x_cnn, x_trans], dim=2).mean(dim=1)
            x_cnn, g_cnn = self.first_ga_cnn(x_cnn, video)
            x_trans, g_trans = self.first_ga_trans(x_trans, video)
            gates.append((g_cnn, g_trans))
        for layer in range(self.depth):
            if layer > 0 and self.ga_cnn is not None:
                x_cnn, g_cnn = self.ga_cnn[layer - 1](x_cnn, video)
                x_trans, g_trans = self.ga_trans[layer - 1](x_trans, video)
                gates.append((g_cnn, g_trans))
            if self.tt_cnn is not None:
                x_cnn = self.tt_cnn[layer](x_cnn)
                x_trans = self.tt_trans[layer](x_trans)
            agg = torch.cat([x_cnn, x_trans], dim=2)
            if self.at is not None:
                agg = self.at[layer](agg)
            video = agg.mean(dim=1)
        if return_gates:
            return video, gates
        return video

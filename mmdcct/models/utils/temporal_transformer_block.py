"""The transformer block of HTA's temporal / aggregated transformers."""
import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from .temporal_attention import TemporalMultiheadAttention

__all__ = ['TemporalTransformerBlock']


class TemporalTransformerBlock(BaseModule):
    """One temporal transformer block (a TT or an AT of DCCT's HTA).

    ``x = x + pos_embed``; ``x = x + MHSA(LN(x))``; ``x = x + MLP(LN(x))``;
    ``x = LN_final(x)``, with the MLP Linear–GELU–Linear of hidden width
    ``max(1, round(embed_dims * mlp_ratio))`` and every LayerNorm with
    ``eps=1e-6``. There is no class token: all ``T`` outputs are kept.

    Args:
        embed_dims (int): Feature width ``C``.
        num_frames (int): ``T``, the length of the learnable temporal
            position embedding. Inputs must have exactly ``T`` frames.
        num_heads (int): Attention heads. Defaults to 8.
        mlp_ratio (float): Hidden width of the MLP relative to ``C``.
            Defaults to 4.0.
        qkv_bias (bool): Bias of the qkv projection. Defaults to True.
        attn_out_proj (bool): Output projection after the heads (standard
            MHSA); False is the DCCT authors' variant. Defaults to True.
        use_sdpa (bool): Attention through
            ``F.scaled_dot_product_attention`` (else an explicit softmax).
            Defaults to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_frames: int,
                 num_heads: int = 8,
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 attn_out_proj: bool = True,
                 use_sdpa: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        self.embed_dims = embed_dims
        self.num_frames = num_frames
        self.pos_embed = nn.Parameter(torch.zeros(1, num_frames, embed_dims))
        trunc_normal_(self.pos_embed, std=0.02)
        self.norm1 = nn.LayerNorm(embed_dims, eps=1e-6)
        self.attn = TemporalMultiheadAttention(
            embed_dims,
            num_heads,
            qkv_bias=qkv_bias,
            out_proj=attn_out_proj,
            use_sdpa=use_sdpa)
        self.norm2 = nn.LayerNorm(embed_dims, eps=1e-6)
        hidden = max(1, int(round(embed_dims * mlp_ratio)))
        self.mlp = nn.Sequential(
            nn.Linear(embed_dims, hidden), nn.GELU(),
            nn.Linear(hidden, embed_dims))
        self.norm_out = nn.LayerNorm(embed_dims, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode the frames.

        Args:
            x (torch.Tensor): Frame features, shape ``(B, T, C)``.

        Returns:
            torch.Tensor: Shape ``(B, T, C)``.

        Raises:
            ValueError: If ``T`` differs from the position-embedding length.
        """
        if x.shape[1] != self.num_frames:
            raise ValueError(
                f'The temporal transformer was built for num_frames='
                f'{self.num_frames} (its position embedding) but got '
                f'{x.shape[1]} frames per tracklet; the sampler\'s '
                'num_frames must match the neck\'s num_frames.')
        x = x + self.pos_embed
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return self.norm_out(x)

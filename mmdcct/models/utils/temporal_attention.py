"""Multi-head self-attention over the frames of a tracklet."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

__all__ = ['TemporalMultiheadAttention']


class TemporalMultiheadAttention(BaseModule):
    """Multi-head self-attention (MHSA) over the time axis.

    ``qkv`` is one linear layer with bias (ViT style); the heads are
    concatenated and, by default, passed through the standard output
    projection. The DCCT authors' attention omits that projection
    (``out_proj=False``).

    The attention itself runs through
    :func:`torch.nn.functional.scaled_dot_product_attention` (fused kernels
    where available); ``use_sdpa=False`` computes the same quantity with an
    explicit softmax, ``softmax(q k^T / sqrt(d)) v``.

    Args:
        embed_dims (int): Feature width ``C``; must be divisible by
            ``num_heads``.
        num_heads (int): Number of heads. Defaults to 8.
        qkv_bias (bool): Bias of the qkv projection. Defaults to True.
        out_proj (bool): Use the output projection after concatenating the
            heads. Defaults to True.
        use_sdpa (bool): Use ``scaled_dot_product_attention``. Defaults to
            True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int = 8,
                 qkv_bias: bool = True,
                 out_proj: bool = True,
                 use_sdpa: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by '
                             f'num_heads ({num_heads})')
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.head_dims = embed_dims // num_heads
        self.use_sdpa = use_sdpa
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.proj = (
            nn.Linear(embed_dims, embed_dims) if out_proj else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attend over the frames.

        Args:
            x (torch.Tensor): Frame features, shape ``(B, T, C)``.

        Returns:
            torch.Tensor: Shape ``(B, T, C)``.
        """
        batch, length, channels = x.shape
        qkv = self.qkv(x).reshape(batch, length, 3, self.num_heads,
                                  self.head_dims).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each (B, heads, T, head_dims)
        if self.use_sdpa:
            out = F.scaled_dot_product_attention(q, k, v)
        else:
            attn = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dims)
            out = attn.softmax(dim=-1) @ v
        out = out.transpose(1, 2).reshape(batch, length, channels)
        return self.proj(out)

"""Gated attention (GA) of DCCT's hierarchical temporal aggregation."""
from typing import Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

__all__ = ['GatedAttention']


class GatedAttention(BaseModule):
    """Deliver the previous video feature into one branch's frame features.

    With ``v`` the previous layer's video feature ``(B, V)`` and ``x`` the
    branch's frame features ``(B, T, D)``:

    - ``p = W_p v`` (a bias-free Linear ``V → D``), broadcast over ``T``;
    - ``g_t = sigmoid(W_g BN(x_t ⊙ p) + b_g)`` (BatchNorm1d over the
      ``B·T`` frames, then a Linear ``D → D``);
    - ``x_t ← g_t ⊙ x_t + (1 − g_t) ⊙ p``.

    Args:
        embed_dims (int): ``D``, width of the branch's frame features.
        video_dims (int): ``V``, width of the video feature (``2D`` in HTA).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, embed_dims: int, video_dims: int,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.video_dims = video_dims
        self.proj = nn.Linear(video_dims, embed_dims, bias=False)
        self.norm = nn.BatchNorm1d(embed_dims)
        self.gate = nn.Linear(embed_dims, embed_dims)

    def forward(self, x: torch.Tensor,
                video: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Gate the frame features with the video feature.

        Args:
            x (torch.Tensor): Frame features, shape ``(B, T, D)``.
            video (torch.Tensor): Video feature, shape ``(B, V)``.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: The updated frame features
            ``(B, T, D)`` and the gates ``g`` ``(B, T, D)``.
        """
        p = self.proj(video).unsqueeze(1)  # (B, 1, D)
        h = (x * p).flatten(0, 1)  # (B·T, D)
        gates = torch.sigmoid(self.gate(self.norm(h))).view_as(x)
        return gates * x + (1.0 - gates) * p, gates

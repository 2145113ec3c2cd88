"""LSTM temporal aggregation: the Tab. VIII alternative to HTA."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmdcct.registry import MODELS

__all__ = ['LSTMTemporalAggregation']


@MODELS.register_module()
class LSTMTemporalAggregation(BaseModule):
    """Aggregate each branch's frames with an LSTM.

    Per branch (weights not shared): ``x = Linear(C_i→D)(x_i)`` (with bias),
    an LSTM ``D → D`` over the ``T`` frames, then temporal average pooling of
    its outputs (``temporal_pool='avg'``) or its last output (``'last'``).
    The two branch features are concatenated, giving ``(B, 2D)`` like HTA.

    Args:
        in_channels (Sequence[int]): ``(C1, C2)``. Defaults to
            ``(2048, 768)``.
        embed_dims (int): ``D``. Defaults to 512.
        num_layers (int): Stacked LSTM layers. Defaults to 1.
        temporal_pool (str): ``'avg'`` or ``'last'``. Defaults to ``'avg'``.
        detach_input (bool): Detach the inputs, as HTA does by default.
            Defaults to True.
        num_frames (int, optional): If given, inputs must have exactly this
            many frames (the LSTM itself accepts any ``T``). Defaults to
            None.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (2048, 768),
                 embed_dims: int = 512,
                 num_layers: int = 1,
                 temporal_pool: str = 'avg',
                 detach_input: bool = True,
                 num_frames: Optional[int] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = tuple(int(c) for c in in_channels)
        if len(in_channels) != 2:
            raise ValueError('LSTMTemporalAggregation expects two branches, '
                             f'got in_channels={in_channels}')
        if temporal_pool not in ('avg', 'last'):
            raise ValueError("temporal_pool must be 'avg' or 'last', got "
                             f'{temporal_pool!r}')
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.out_channels = 2 * embed_dims
        self.temporal_pool = temporal_pool
        self.detach_input = detach_input
        self.num_frames = num_frames
        self.aligns = nn.ModuleList(
            nn.Linear(c, embed_dims) for c in in_channels)
        self.lstms = nn.ModuleList(
            nn.LSTM(embed_dims, embed_dims, num_layers, batch_first=True)
            for _ in in_channels)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Aggregate the frames of every tracklet.

        Args:
            feats (Sequence[torch.Tensor]): ``(x_cnn (B, T, C1),
                x_trans (B, T, C2))``.

        Returns:
            torch.Tensor: The video feature, shape ``(B, 2·embed_dims)``.
        """
        if len(feats) != 2:
            raise ValueError('LSTMTemporalAggregation expects the features '
                             f'of two branches, got {len(feats)}')
        outs = []
        for x, align, lstm in zip(feats, self.aligns, self.lstms):
            if self.num_frames is not None and x.shape[1] != self.num_frames:
                raise ValueError(
                    f'LSTMTemporalAggregation was built with num_frames='
                    f'{self.num_frames} but got {x.shape[1]} frames')
            if self.detach_input:
                x = x.detach()
            hidden, _ = lstm(align(x))  # (B, T, D)
            outs.append(hidden.mean(dim=1) if self.temporal_pool == 'avg'
                        else hidden[:, -1])
        return torch.cat(outs, dim=1)

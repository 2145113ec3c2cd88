"""A tiny embedding model in mmpretrain's scope."""
from typing import List, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

__all__ = ['ToyTrackletEmbedder']


@MODELS.register_module()
class ToyTrackletEmbedder(BaseModel):
    """Embed every frame linearly and average over time.

    Args:
        in_dims (int): Frame vector width ``D``. Defaults to 16.
        out_dims (int): Feature width. Defaults to 16.
        init_identity (bool): Start from the identity map (a sensible
            embedding of :class:`ToyTrackletDataset` without training).
            Defaults to True.
    """

    def __init__(self,
                 in_dims: int = 16,
                 out_dims: int = 16,
                 init_identity: bool = True,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        self.proj = nn.Linear(in_dims, out_dims, bias=False)
        if init_identity:
            with torch.no_grad():
                self.proj.weight.zero_()
                n = min(in_dims, out_dims)
                self.proj.weight[:n, :n] = torch.eye(n)

    def forward(self,
                inputs: List[torch.Tensor],
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """``tensor``: features ``(B, out_dims)``; ``predict``: the data
        samples with ``pred_feature`` set."""
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        feats = self.proj(inputs.float()).mean(dim=1)
        if mode == 'tensor':
            return feats
        if mode == 'predict':
            if data_samples is None:
                data_samples = [DataSample() for _ in range(len(feats))]
            for sample, feat in zip(data_samples, feats):
                sample.set_field(feat, 'pred_feature')
            return data_samples
        raise NotImplementedError(
            f'mode={mode!r}: this example model only evaluates')

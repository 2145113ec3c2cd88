"""Coupled Convolution-Transformer: two backbones run side by side."""
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule

from mmdcct.registry import MODELS

BranchFeatures = Tuple[torch.Tensor, torch.Tensor]


def _last_output(
        outs: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
    """The deepest output of a backbone that may return a tuple of stages."""
    while isinstance(outs, (tuple, list)):
        if len(outs) == 0:
            raise ValueError('The backbone returned no output.')
        outs = outs[-1]
    return outs


@MODELS.register_module()
class CoupledBackbone(BaseModule):
    """Coupled Convolution-Transformer backbone (DCCT §III-A).

    Runs a CNN and a Transformer on every frame and returns, for each branch,
    its local features (spatial positions or patch tokens) and its global
    feature. Any backbone works in either slot as long as it returns a
    feature map ``(N, C, H, W)`` or a token sequence ``(N, E + L, C)`` whose
    first ``E`` tokens are extra tokens (``num_extra_tokens`` attribute, e.g.
    1 for ViT's class token); e.g. ``mmpretrain.VisionTransformer`` with
    ``out_type='raw'``, ``mmpretrain.ResNet``, ``mmpretrain.SwinTransformer``
    or ``mmpretrain.TIMMBackbone``.

    Args:
        cnn (dict): Config of the convolutional branch, e.g.
            ``dict(type='mmpretrain.ResNet', depth=50, strides=(1, 2, 2, 1))``.
        transformer (dict): Config of the transformer branch, e.g.
            ``dict(type='mmpretrain.VisionTransformer', out_type='raw')``.
        cnn_global (str): Global feature of the CNN branch: ``'avg'`` (global
            average pooling of the local features). Defaults to ``'avg'``.
        transformer_global (str): Global feature of the transformer branch:
            ``'cls_token'`` (the authors' code) or ``'avg'`` (GAP of the patch
            tokens, as the paper says). Defaults to ``'cls_token'``.
        init_cfg (dict, optional): Initialisation config. Pretrained weights
            are usually given in each branch's own ``init_cfg``.
    """

    GLOBAL_TYPES = ('avg', 'cls_token')

    def __init__(self,
                 cnn: dict,
                 transformer: dict,
                 cnn_global: str = 'avg',
                 transformer_global: str = 'cls_token',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('cnn_global', cnn_global),
                            ('transformer_global', transformer_global)):
            if value not in self.GLOBAL_TYPES:
                raise ValueError(f'CoupledBackbone: {name} must be one of '
                                 f'{self.GLOBAL_TYPES}, got {value!r}')
        self.cnn = MODELS.build(cnn)
        self.transformer = MODELS.build(transformer)
        self.cnn_global = cnn_global
        self.transformer_global = transformer_global

    @staticmethod
    def _split(branch: torch.nn.Module,
               outs,
               global_type: str,
               branch_name: str,
               owner: str = 'CoupledBackbone') -> BranchFeatures:
        """Turn one branch's raw output into (local, global) features.

        Args:
            branch (nn.Module): The branch (to read ``num_extra_tokens``).
            outs: The branch output (tensor or tuple of stage outputs).
            global_type (str): ``'avg'`` or ``'cls_token'``.
            branch_name (str): For error messages.
            owner (str): Class name for error messages. Defaults to
                ``'CoupledBackbone'``.

        Returns:
            tuple[Tensor, Tensor]: local ``(N, L, C)`` and global ``(N, C)``.
        """
        out = _last_output(outs)
        num_extra = 0
        if out.dim() == 4:
            local = out.flatten(2).transpose(1, 2)
        elif out.dim() == 3:
            num_extra = int(getattr(branch, 'num_extra_tokens', 0))
            local = out[:, num_extra:]
        else:
            raise ValueError(
                f'{owner}: the {branch_name} branch returned a '
                f'{out.dim()}-D tensor of shape {tuple(out.shape)}; expected '
                'a feature map (N, C, H, W) or tokens (N, L, C). For '
                "mmpretrain.VisionTransformer set out_type='raw'.")
        if global_type == 'avg':
            glob = local.mean(dim=1)
        elif num_extra == 0:
            raise ValueError(
                f"{owner}: {branch_name}_global='cls_token' needs a "
                'branch that outputs a class token (tokens with '
                "num_extra_tokens >= 1); use 'avg' for this branch.")
        else:
            glob = out[:, 0]
        return local, glob

    def forward(self,
                x: torch.Tensor) -> Tuple[BranchFeatures, BranchFeatures]:
        """Extract both branches' features of every frame.

        Args:
            x (torch.Tensor): Frames, shape ``(N, 3, H, W)`` with ``N = B·T``.

        Returns:
            tuple: ``((cnn_local, cnn_global), (trans_local, trans_global))``
            with local features ``(N, L_i, C_i)`` and global features
            ``(N, C_i)``.
        """
        cnn_feats = self._split(self.cnn, self.cnn(x), self.cnn_global, 'cnn')
        trans_feats = self._split(self.transformer, self.transformer(x),
                                  self.transformer_global, 'transformer')
        return cnn_feats, trans_feats

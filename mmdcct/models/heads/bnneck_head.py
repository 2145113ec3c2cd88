"""BN-neck head of the baselines: one BN-neck + classifier per branch."""
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from .bnneck import BNNeck
from .utils import STAGES, stage_features

__all__ = ['BNNeckHead', 'VideoReIDHead', 'gather_labels']


def gather_labels(data_samples: Sequence[VideoReIDDataSample]) -> torch.Tensor:
    """Stack the identity labels of a batch.

    Args:
        data_samples (Sequence[VideoReIDDataSample]): Samples with
            ``gt_label``.

    Returns:
        torch.Tensor: Labels, shape ``(B,)``.
    """
    return torch.cat([ds.gt_label for ds in data_samples])


@MODELS.register_module()
class BNNeckHead(BaseModule):
    """BN-neck head of the Coupled baseline and the single backbones.

    Every branch's base features (the backbone globals ``g_i``
    ``(B, T, C_i)``) have their own BN-neck and classifier (cross-entropy
    on the logits, batch-hard triplet on the BN features); each kind of
    loss is averaged over the branches. ``supervision`` chooses the level
    supervised, with ``B`` tracklets of ``T`` frames:

    - ``'frame'`` (the authors' code, as DCCT's backbone supervision):
      the ``B·T`` frame globals, each labelled with its tracklet's id; CE
      over all frames, triplet per time index ``t`` over the ``B``
      tracklets, averaged over ``T`` → ``loss_ce_frame``,
      ``loss_tri_frame``.
    - ``'video'``: the time-averaged globals ``TAP(g_i)`` ``(B, C_i)`` →
      ``loss_ce_video``, ``loss_tri_video``.

    The baseline's ``'base'`` test feature is the concatenation of
    ``TAP(g_i)`` (before the BN-necks); :meth:`predict` gives their BN-neck
    features (BN in eval mode is affine, so it commutes with TAP).

    Args:
        num_classes (int): Number of training identities.
        in_channels (Sequence[int]): Width of each branch's base feature.
            Defaults to ``(2048, 768)`` (ResNet-50, ViT-B).
        loss_ce (dict): Classification loss config.
        loss_triplet (dict, optional): Metric loss config; None disables it.
        supervision (str): ``'frame'`` or ``'video'``, see above. Defaults
            to ``'video'``; the paper configs use ``'frame'``.
        freeze_bias (bool | Sequence[bool]): Freeze the BN shift of the
            BN-necks: one flag for all or one per branch. The authors
            freeze it on the ViT base feature only: ``(False, True)``.
            Defaults to True.
        init_cfg (dict, optional): Initialisation config.
    """

    SUPERVISION = ('frame', 'video')

    def __init__(self,
                 num_classes: int,
                 in_channels: Sequence[int] = (2048, 768),
                 loss_ce: dict = dict(type='mmpretrain.CrossEntropyLoss'),
                 loss_triplet: Optional[dict] = dict(
                     type='TripletLoss', margin=0.3, distance='cosine'),
                 supervision: str = 'video',
                 freeze_bias: Union[bool, Sequence[bool]] = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        if supervision not in self.SUPERVISION:
            raise ValueError(f'{name}: supervision must be one of '
                             f'{self.SUPERVISION}, got {supervision!r}')
        self.num_classes = num_classes
        self.in_channels = tuple(in_channels)
        self.supervision = supervision
        if isinstance(freeze_bias, bool):
            freeze_bias = (freeze_bias, ) * len(self.in_channels)
        freeze_bias = tuple(freeze_bias)
        if (len(freeze_bias) != len(self.in_channels)
                or not all(isinstance(f, bool) for f in freeze_bias)):
            raise ValueError(
                f'{name}: freeze_bias must be a bool or one bool per '
                f'branch (in_channels={self.in_channels}), got '
                f'{freeze_bias!r}')
        self.freeze_bias = freeze_bias
        self.necks = nn.ModuleList(
            BNNeck(c, num_classes, freeze_bias=f)
            for c, f in zip(self.in_channels, freeze_bias))
        self.loss_ce = MODELS.build(loss_ce)
        self.loss_triplet = (
            MODELS.build(loss_triplet) if loss_triplet is not None else None)

    def _base_features(self, feats: Dict, caller: str) -> List[torch.Tensor]:
        base = stage_features(feats, f'{type(self).__name__}.{caller}')['base']
        if base is None:
            raise ValueError(f"{type(self).__name__}.{caller} needs "
                             "feats['base']")
        if len(base) != len(self.necks):
            raise ValueError(
                f'{type(self).__name__} was built for {len(self.necks)} '
                f'branches (in_channels={self.in_channels}), got {len(base)}')
        return list(base)

    def _branch_losses(self, neck: BNNeck, g: torch.Tensor,
                       labels: torch.Tensor) -> List[torch.Tensor]:
        """CE (and triplet) of one branch's globals ``g`` ``(B, T, C)``."""
        if self.supervision == 'video':
            feats, logits = neck(g.mean(dim=1))
            ce = self.loss_ce(logits, labels)
            if self.loss_triplet is None:
                return [ce]
            return [ce, self.loss_triplet(feats, labels)]
        num_tracklets, num_frames = g.shape[:2]
        feats, logits = neck(g.flatten(0, 1))
        ce = self.loss_ce(logits, labels.repeat_interleave(num_frames))
        if self.loss_triplet is None:
            return [ce]
        per_t = feats.view(num_tracklets, num_frames, -1)
        tri = torch.stack([
            self.loss_triplet(per_t[:, t], labels) for t in range(num_frames)
        ]).mean()
        return [ce, tri]

    def loss(self, feats: Dict,
             data_samples: Sequence[VideoReIDDataSample]) -> dict:
        """Compute the losses.

        Args:
            feats (dict): ``feats['base']`` is a tuple with each branch's
                frame globals, shape ``(B, T, C_i)``.
            data_samples (Sequence[VideoReIDDataSample]): With ``gt_label``.

        Returns:
            dict: ``loss_ce_{level}`` and (if enabled) ``loss_tri_{level}``,
            ``level`` being ``supervision`` (``frame`` or ``video``).
        """
        base = self._base_features(feats, 'loss')
        labels = gather_labels(data_samples).to(base[0].device)
        per_branch = [
            self._branch_losses(neck, g, labels)
            for neck, g in zip(self.necks, base)
        ]
        level = self.supervision
        losses = {
            f'loss_ce_{level}': torch.stack([b[0] for b in per_branch]).mean()
        }
        if self.loss_triplet is not None:
            losses[f'loss_tri_{level}'] = torch.stack(
                [b[1] for b in per_branch]).mean()
        return losses

    def predict(
        self,
        feats: Dict,
        stages: Union[str, Sequence[str]] = ('base', )
    ) -> Dict[str, Tuple[torch.Tensor, ...]]:
        """BN-neck test features of the base stage.

        Args:
            feats (dict): As in :meth:`loss`.
            stages (str | Sequence[str]): Only ``'base'``: this head has
                no spatial or final BN-necks. Defaults to ``('base', )``.

        Returns:
            dict[str, tuple[torch.Tensor]]: ``base`` — the BN-neck feature
            of each branch's ``TAP(g_i)``, each ``(B, C_i)``.
        """
        if isinstance(stages, str):
            stages = (stages, )
        other = [s for s in stages if s != 'base']
        if other:
            raise ValueError(
                f"{type(self).__name__} only produces the 'base' stage's "
                f'BN-neck features, got stages {tuple(stages)}; the '
                f'baselines have no spatial or temporal neck (stages: '
                f'{STAGES}).')
        if not stages:
            return {}
        base = self._base_features(feats, 'predict')
        return dict(base=tuple(
            neck.bn(g.mean(dim=1)) for neck, g in zip(self.necks, base)))


@MODELS.register_module()
class VideoReIDHead(BNNeckHead):
    """Deprecated name of :class:`BNNeckHead` (``FutureWarning``)."""

    def __init__(self, *args, **kwargs) -> None:
        warnings.warn(
            "The head type 'VideoReIDHead' is deprecated, use 'BNNeckHead' "
            '(same arguments and checkpoints).', FutureWarning)
        super().__init__(*args, **kwargs)

"""DCCT's two-stage supervision with self-distillation (§III-D)."""
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from .bnneck import BNNeck
from .utils import OLD_STAGE_NAMES, STAGES, rename_deprecated, stage_features

__all__ = ['SelfDistillationHead']

PerStage = Union[bool, Dict[str, Union[bool, Sequence[bool]]]]

_RENAMED = dict(
    frame_channels='base_channels',
    video_channels='final_channels',
    frame_loss='base_loss',
    video_loss='final_loss')
_NECK_OF = dict(base='backbone', spatial='spatial_neck', final='temporal_neck')


def _typed_distill_cfg(cfg: Optional[dict], loss_type: str,
                       name: str) -> Tuple[Optional[dict], Optional[int]]:
    """Map the old ``loss_ld`` / ``loss_fd`` keys to the typed form.

    The old dicts had no ``type``, ``weight`` for ``loss_weight`` and (FD)
    ``hidden_channels`` for the head's ``hint_hidden_channels``. The old
    keys are also mapped when merged into a typed dict (a config or
    ``--cfg-options`` of the old form over a typed base config).

    Returns:
        tuple: The typed config (or None) and the old ``hidden_channels``
        of ``loss_fd`` (None if not given).
    """
    if cfg is None:
        return None, None
    cfg = dict(cfg)
    old = [key for key in ('weight', 'hidden_channels') if key in cfg]
    if 'type' in cfg and not old:
        return cfg, None
    hidden = cfg.pop('hidden_channels', None)
    if 'weight' in cfg:
        cfg['loss_weight'] = cfg.pop('weight')
    if 'type' not in cfg:
        old.insert(0, 'no type')
        cfg = dict(type=loss_type, **cfg)
    fixes = [f'{name}=dict(type={loss_type!r}, ...)']
    if 'weight' in old:
        fixes.append(f'{name}.loss_weight instead of {name}.weight')
    if hidden is not None:
        fixes.append(f'hint_hidden_channels={hidden} on the head instead '
                     f'of {name}.hidden_channels')
    warnings.warn(
        f'SelfDistillationHead: the old form of {name} ({", ".join(old)}) '
        f'is deprecated; use {"; ".join(fixes)}.', FutureWarning)
    return cfg, hidden


def _merge(renamed: dict, name: str, value, default):
    """The value of argument ``name``, given under its old name or not."""
    if name not in renamed:
        return value
    old = renamed[name]
    as_tuple = (lambda v: tuple(v) if isinstance(v, (list, tuple)) else v)
    if as_tuple(value) != as_tuple(default) and as_tuple(
            value) != as_tuple(old):
        old_name = next(k for k, v in _RENAMED.items() if v == name)
        raise ValueError(
            f'SelfDistillationHead got {old_name}={old!r} and {name}='
            f'{value!r}; {old_name} is the deprecated name of {name}: '
            f'give {name} only.')
    return old


@MODELS.register_module()
class SelfDistillationHead(BaseModule):
    """BN-neck heads, two-stage supervision and self-distillation of DCCT.

    The features come by stage (see :class:`VideoReID`): ``base`` — each
    branch's frame globals ``g_i`` ``(B, T, C_i)``; ``spatial`` — the
    spatial-neck (CCA) outputs ``y_i`` ``(B, T, C_i)``; ``final`` — the
    temporal-neck (HTA) output ``f`` ``(B, D)``. Every supervised feature
    has its own :class:`BNNeck`. Losses, named by supervision level:

    - **Frame level** (``base_loss``): the ``B·T`` frame globals; CE over
      all frames (each labelled with its tracklet's id) and a batch-hard
      triplet on the BN features per time index ``t`` over the ``B``
      tracklets, averaged over ``T``; each averaged over the branches →
      ``loss_ce_frame``, ``loss_tri_frame``.
    - **Video level**: ``TAP(y_i)`` (``spatial_loss``) and ``f``
      (``final_loss``): CE + triplet on the BN features, averaged over the
      supervised features present → ``loss_ce_video``, ``loss_tri_video``.
    - **Logit distillation** (``loss_ld``, e.g.
      :class:`LogitDistillationLoss`) from the logits of ``f`` to every
      branch's frame logits → ``loss_ld``.
    - **Feature distillation** (``loss_fd``, e.g.
      :class:`FeatureDistillationLoss`) from ``f`` to every branch's frame
      globals mapped by a hint network ``H_i: C_i → final_channels`` →
      ``loss_fd``.

    The distillation losses never update the teacher (``f``, HTA, the final
    BN-neck). A loss key is omitted when its term is disabled or its input
    feature is absent (None).

    Args:
        num_classes (int): Number of training identities.
        base_channels (Sequence[int]): Widths of the branches' frame
            globals. Defaults to ``(2048, 768)``.
        spatial_channels (Sequence[int], optional): Widths of the spatial
            neck outputs; None if the model has none. Defaults to
            ``(2048, 768)``.
        final_channels (int, optional): Width of the temporal neck output;
            None if the model has none. Defaults to 1024.
        loss_ce (dict): Classification loss config. Defaults to
            ``mmpretrain.CrossEntropyLoss`` (no label smoothing).
        loss_triplet (dict, optional): Metric loss config; None disables
            the triplet terms. Defaults to cosine batch-hard, margin 0.3.
        base_loss (bool): Frame-level supervision of the base features.
            Defaults to True.
        spatial_loss (bool): Video-level supervision of the spatial
            features. Defaults to True.
        final_loss (bool): Video-level supervision of ``f``. Defaults to
            True.
        loss_ld (dict, optional): Logit distillation loss config; None
            disables LD. Defaults to ``LogitDistillationLoss`` with the
            paper's weight 0.1 and ``τ = 0.3``.
        loss_fd (dict, optional): Feature distillation loss config; None
            disables FD (and the hint networks). Defaults to
            ``FeatureDistillationLoss`` with weight 0.1, ``mode='l2'``.
        hint_hidden_channels (int, optional): None: a hint network is one
            Linear ``C_i → final_channels``; an int ``h``: the bottleneck
            Linear(C_i→h)–BN–ReLU–Linear(h→final_channels). Defaults to
            None.
        freeze_bias (bool | dict): Freeze the BN shift of the BN-necks. A
            bool applies to all; a dict with keys ``base``, ``spatial``,
            ``final`` (missing keys: True) maps to a bool or one bool per
            branch. The paper freezes it on the ViT base feature:
            ``dict(base=(False, True), spatial=False, final=False)``.
            Defaults to True.
        classifier_bias (bool | dict): Give the BN-necks' classifiers a
            bias; the same forms as ``freeze_bias`` (missing keys: False).
            Only to load the authors' checkpoints, whose ViT base-feature
            classifier has one: ``dict(base=(False, True))``. Defaults to
            False.
        init_cfg (dict | list[dict], optional): Initialisation config.
        **deprecated: The old names ``frame_channels``, ``video_channels``,
            ``frame_loss``, ``video_loss`` (``FutureWarning``).

    Note:
        A BN-neck is only built for a feature that is trained: the base
        necks if ``base_loss`` or LD, the spatial necks if ``spatial_loss``,
        the final neck if ``final_loss`` or LD. Their module names are
        those of the checkpoints: ``frame_necks`` (per-frame BN-necks of
        the base features), ``spatial_necks``, ``video_neck`` (of ``f``),
        ``hints``.
    """

    def __init__(self,
                 num_classes: int,
                 base_channels: Sequence[int] = (2048, 768),
                 spatial_channels: Optional[Sequence[int]] = (2048, 768),
                 final_channels: Optional[int] = 1024,
                 loss_ce: dict = dict(type='mmpretrain.CrossEntropyLoss'),
                 loss_triplet: Optional[dict] = dict(
                     type='TripletLoss', margin=0.3, distance='cosine'),
                 base_loss: bool = True,
                 spatial_loss: bool = True,
                 final_loss: bool = True,
                 loss_ld: Optional[dict] = dict(
                     type='LogitDistillationLoss', tau=0.3, loss_weight=0.1),
                 loss_fd: Optional[dict] = dict(
                     type='FeatureDistillationLoss', mode='l2',
                     loss_weight=0.1),
                 hint_hidden_channels: Optional[int] = None,
                 freeze_bias: PerStage = True,
                 classifier_bias: PerStage = False,
                 init_cfg: Optional[Union[dict, list]] = None,
                 **deprecated) -> None:
        super().__init__(init_cfg=init_cfg)
        renamed = rename_deprecated(deprecated, _RENAMED,
                                    'SelfDistillationHead')
        base_channels = _merge(renamed, 'base_channels', base_channels,
                               (2048, 768))
        final_channels = _merge(renamed, 'final_channels', final_channels,
                                1024)
        base_loss = _merge(renamed, 'base_loss', base_loss, True)
        final_loss = _merge(renamed, 'final_loss', final_loss, True)
        loss_ld, _ = _typed_distill_cfg(loss_ld, 'LogitDistillationLoss',
                                        'loss_ld')
        loss_fd, hidden = _typed_distill_cfg(loss_fd,
                                             'FeatureDistillationLoss',
                                             'loss_fd')
        if hidden is not None:
            hint_hidden_channels = hidden

        self.num_classes = num_classes
        self.base_channels = tuple(base_channels)
        self.spatial_channels = (
            tuple(spatial_channels) if spatial_channels is not None else None)
        self.final_channels = final_channels
        self.base_loss = base_loss
        self.spatial_loss = spatial_loss
        self.final_loss = final_loss
        self.freeze_bias = self._stage_dict(freeze_bias, 'freeze_bias')
        self.classifier_bias = self._stage_dict(classifier_bias,
                                                'classifier_bias')
        if (loss_ld is not None or loss_fd is not None) \
                and final_channels is None:
            raise ValueError('Self-distillation (loss_ld / loss_fd) needs '
                             'the final feature: set final_channels, or '
                             'loss_ld=None and loss_fd=None.')
        self.loss_ld = MODELS.build(loss_ld) if loss_ld is not None else None
        self.loss_fd = MODELS.build(loss_fd) if loss_fd is not None else None

        self.frame_necks = None
        if base_loss or self.loss_ld is not None:
            self.frame_necks = self._build_necks('base', self.base_channels)
        self.spatial_necks = None
        if spatial_loss and self.spatial_channels is not None:
            self.spatial_necks = self._build_necks('spatial',
                                                   self.spatial_channels)
        self.video_neck = None
        if final_channels is not None and (final_loss
                                           or self.loss_ld is not None):
            self.video_neck = self._build_necks('final', (final_channels, ))[0]
        self.hints = None
        if self.loss_fd is not None:
            self.hints = nn.ModuleList(
                self._build_hint(c, final_channels, hint_hidden_channels)
                for c in self.base_channels)

        self.loss_ce = MODELS.build(loss_ce)
        self.loss_triplet = (
            MODELS.build(loss_triplet) if loss_triplet is not None else None)

    # ------------------------------------------------------------------
    # construction helpers
    # ------------------------------------------------------------------
    @staticmethod
    def _stage_dict(value: PerStage, name: str) -> PerStage:
        """Check a per-stage dict, mapping the old keys (``FutureWarning``)."""
        if not isinstance(value, dict):
            return value
        value = dict(value)
        for old, new in OLD_STAGE_NAMES.items():
            if old in value:
                if new in value and value[new] != value[old]:
                    raise ValueError(
                        f'{name} has both {old!r} and its new name {new!r} '
                        f'with different values ({value[old]!r}, '
                        f'{value[new]!r}); keep {new!r} only.')
                warnings.warn(
                    f'SelfDistillationHead: {name} key {old!r} is '
                    f'deprecated, use {new!r}.', FutureWarning)
                value[new] = value.pop(old)
        unknown = set(value) - set(STAGES)
        if unknown:
            raise ValueError(f'Unknown {name} keys {sorted(unknown)}; '
                             f'allowed: {STAGES}')
        return value

    def _flags(self, stage: str, num: int, name: str,
               default: bool) -> List[bool]:
        value = getattr(self, name)
        if isinstance(value, dict):
            value = value.get(stage, default)
        if isinstance(value, bool):
            return [value] * num
        flags = [bool(v) for v in value]
        if len(flags) != num:
            raise ValueError(f'{name}[{stage!r}] needs {num} flags, got '
                             f'{len(flags)}')
        return flags

    def _build_necks(self, stage: str,
                     channels: Sequence[int]) -> nn.ModuleList:
        num = len(channels)
        return nn.ModuleList(
            BNNeck(c, self.num_classes, freeze_bias=f, classifier_bias=b)
            for c, f, b in zip(
                channels, self._flags(stage, num, 'freeze_bias', True),
                self._flags(stage, num, 'classifier_bias', False)))

    @staticmethod
    def _build_hint(in_channels: int, out_channels: int,
                    hidden_channels: Optional[int]) -> nn.Module:
        if hidden_channels is None:
            return nn.Linear(in_channels, out_channels)
        return nn.Sequential(
            nn.Linear(in_channels, hidden_channels),
            nn.BatchNorm1d(hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, out_channels))

    # ------------------------------------------------------------------
    # losses
    # ------------------------------------------------------------------
    @staticmethod
    def _check_branches(stage: str, got: Sequence, expected: Sequence[int]):
        if len(got) != len(expected):
            raise ValueError(f'SelfDistillationHead was built for '
                             f'{len(expected)} {stage} features (widths '
                             f'{tuple(expected)}), got {len(got)}')

    def _frame_losses(
            self, base: Sequence[torch.Tensor], labels: torch.Tensor
    ) -> Tuple[List[torch.Tensor], List[torch.Tensor], List[torch.Tensor]]:
        """Per-branch frame-level CE, triplet and logits.

        Args:
            base (Sequence[torch.Tensor]): Frame globals, each
                ``(B, T, C_i)``.
            labels (torch.Tensor): Tracklet labels ``(B,)``.

        Returns:
            tuple[list, list, list]: Per-branch CE losses, triplet losses
            (empty if disabled) and frame logits ``(B·T, K)``.
        """
        ce, tri, logits_all = [], [], []
        for neck, g in zip(self.frame_necks, base):
            num_tracklets, num_frames = g.shape[:2]
            bn_feats, logits = neck(g.flatten(0, 1))
            logits_all.append(logits)
            if not self.base_loss:
                continue
            ce.append(
                self.loss_ce(logits, labels.repeat_interleave(num_frames)))
            if self.loss_triplet is not None:
                per_t = bn_feats.view(num_tracklets, num_frames, -1)
                tri.append(
                    torch.stack([
                        self.loss_triplet(per_t[:, t], labels)
                        for t in range(num_frames)
                    ]).mean())
        return ce, tri, logits_all

    def loss(self, feats: Dict,
             data_samples: Sequence[VideoReIDDataSample]) -> dict:
        """Compute every loss term.

        Args:
            feats (dict): ``base`` — tuple of frame globals, each
                ``(B, T, C_i)``; ``spatial`` — tuple of spatial-neck outputs,
                each ``(B, T, C_i)``, or None; ``final`` — the temporal-neck
                output ``(B, final_channels)`` or None.
            data_samples (Sequence[VideoReIDDataSample]): With ``gt_label``.

        Returns:
            dict[str, torch.Tensor]: Scalars ``loss_ce_frame``,
            ``loss_tri_frame``, ``loss_ce_video``, ``loss_tri_video``,
            ``loss_ld``, ``loss_fd`` — the enabled ones whose input is
            present.
        """
        feats = stage_features(feats, 'SelfDistillationHead.loss')
        base, spatial, final = feats['base'], feats['spatial'], feats['final']
        if base is None:
            raise ValueError("SelfDistillationHead.loss needs feats['base']")
        self._check_branches('base', base, self.base_channels)
        num_tracklets, num_frames = base[0].shape[:2]
        labels = torch.cat([ds.gt_label for ds in data_samples]).to(
            base[0].device)
        if labels.numel() != num_tracklets:
            raise ValueError(f'Got {labels.numel()} labels for '
                             f'{num_tracklets} tracklets')
        losses = {}

        frame_logits: List[torch.Tensor] = []
        if self.frame_necks is not None:
            ce, tri, frame_logits = self._frame_losses(base, labels)
            if ce:
                losses['loss_ce_frame'] = torch.stack(ce).mean()
            if tri:
                losses['loss_tri_frame'] = torch.stack(tri).mean()

        # video level: TAP(spatial) per branch and f
        supervised: List[Tuple[torch.Tensor, torch.Tensor]] = []
        if self.spatial_necks is not None and spatial is not None:
            self._check_branches('spatial', spatial, self.spatial_channels)
            supervised.extend(
                neck(y.mean(dim=1))
                for neck, y in zip(self.spatial_necks, spatial))
        final_logits = None
        if self.video_neck is not None and final is not None:
            bn_final, final_logits = self.video_neck(final)
            if self.final_loss:
                supervised.append((bn_final, final_logits))
        if supervised:
            losses['loss_ce_video'] = torch.stack(
                [self.loss_ce(logits, labels)
                 for _, logits in supervised]).mean()
            if self.loss_triplet is not None:
                losses['loss_tri_video'] = torch.stack([
                    self.loss_triplet(bn_feats, labels)
                    for bn_feats, _ in supervised
                ]).mean()

        # self-distillation: the losses detach the teacher (f, its logits)
        if self.loss_ld is not None and final_logits is not None:
            losses['loss_ld'] = self.loss_ld(frame_logits, final_logits)
        if self.loss_fd is not None and final is not None:
            losses['loss_fd'] = self.loss_fd(
                [hint(g.flatten(0, 1)) for hint, g in zip(self.hints, base)],
                final)
        return losses

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------
    def predict(
        self,
        feats: Dict,
        stages: Union[str, Sequence[str]] = ('final', )
    ) -> Dict[str, Tuple[torch.Tensor, ...]]:
        """BN-neck test features of the given stages.

        Args:
            feats (dict): As in :meth:`loss`.
            stages (str | Sequence[str]): Stages of ``STAGES``: ``'base'``
                — the base BN-necks of ``TAP(g_i)``; ``'spatial'`` — the
                spatial BN-necks of ``TAP(y_i)``; ``'final'`` — the final
                BN-neck of ``f``. Defaults to ``('final', )``.

        Returns:
            dict[str, tuple[torch.Tensor]]: Per stage, the BN-neck feature
            of each branch ``(B, C_i)`` (``'final'``: one, ``(B, D)``).
        """
        feats = stage_features(feats, 'SelfDistillationHead.predict')
        if isinstance(stages, str):
            stages = (stages, )
        out = {}
        for stage in stages:
            if stage not in STAGES:
                raise ValueError('SelfDistillationHead.predict: stages must '
                                 f'be in {STAGES}, got {stage!r}')
            necks = dict(
                base=self.frame_necks,
                spatial=self.spatial_necks,
                final=[self.video_neck]
                if self.video_neck is not None else None)[stage]
            if feats[stage] is None:
                raise ValueError(
                    f"Stage {stage!r} needs feats[{stage!r}], which is None"
                    f' (the model has no {_NECK_OF[stage]}).')
            if necks is None:
                reason = dict(
                    base='base_loss=False and no LD',
                    spatial='spatial_loss=False or spatial_channels=None',
                    final='final_loss=False and no LD, or '
                    'final_channels=None')[stage]
                raise ValueError(f'Stage {stage!r} needs the {stage} '
                                 f'BN-necks; this head has none ({reason}).')
            if stage == 'final':
                out[stage] = (self.video_neck.bn(feats['final']), )
                continue
            channels = (self.base_channels
                        if stage == 'base' else self.spatial_channels)
            self._check_branches(stage, feats[stage], channels)
            out[stage] = tuple(
                neck.bn(x.mean(dim=1)) for neck, x in zip(necks, feats[stage]))
        return out

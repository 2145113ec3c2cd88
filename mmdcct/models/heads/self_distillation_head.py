"""DCCT's two-stage supervision with self-distillation (§III-D)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from .bnneck import BNNeck

__all__ = ['SelfDistillationHead']

FreezeBias = Union[bool, Dict[str, Union[bool, Sequence[bool]]]]

_LD_DEFAULTS = dict(weight=0.1, tau=0.3, tau_square=False,
                    branch_reduction='mean')
_FD_DEFAULTS = dict(weight=0.1, mode='l2', hidden_channels=None,
                    branch_reduction='sum')


def _with_defaults(cfg: dict, defaults: dict, name: str) -> dict:
    """Complete a distillation config and reject unknown keys."""
    unknown = set(cfg) - set(defaults)
    if unknown:
        raise ValueError(f'Unknown keys {sorted(unknown)} in {name}; '
                         f'allowed: {sorted(defaults)}')
    merged = dict(defaults)
    merged.update(cfg)
    if merged['branch_reduction'] not in ('mean', 'sum'):
        raise ValueError(f"{name}.branch_reduction must be 'mean' or 'sum', "
                         f"got {merged['branch_reduction']!r}")
    return merged


def _reduce(values: List[torch.Tensor], how: str) -> torch.Tensor:
    stacked = torch.stack(values)
    return stacked.mean() if how == 'mean' else stacked.sum()


@MODELS.register_module()
class SelfDistillationHead(BaseModule):
    """BN-neck heads, two-stage supervision and self-distillation of DCCT.

    Every supervised feature has its own :class:`BNNeck` (BatchNorm1d and a
    bias-free classifier). With ``B`` tracklets of ``T`` frames:

    - **Frame level** (``frame_loss``): each branch's frame globals ``g_i``
      ``(B·T, C_i)``; CE over all frames (each labelled with its tracklet's
      id) and a batch-hard triplet on the BN features per time index ``t``
      over the ``B`` tracklets, averaged over ``T``. Each is averaged over
      the branches → ``loss_ce_frame``, ``loss_tri_frame``.
    - **Video level**: ``TAP(y_i)`` of every CCA output (``spatial_loss``)
      and the HTA feature ``f`` (``video_loss``): CE + triplet (on the BN
      features), averaged over the supervised video features present →
      ``loss_ce_video``, ``loss_tri_video``.
    - **Logistic distillation** (``loss_ld``):
      ``KL(softmax(z_f / τ) ‖ softmax(z_b / τ))`` with ``batchmean`` over
      the ``B·T`` frames, ``z_b`` the frame logits of a branch and ``z_f``
      the video logits of ``f`` repeated over ``T`` and detached; reduced
      over the branches by ``branch_reduction`` (default mean), optionally
      multiplied by ``τ²`` (``tau_square``; off, as the authors and the
      spec) and by ``weight`` → ``loss_ld``.
    - **Feature distillation** (``loss_fd``): hint networks ``H_i: C_i →
      video_channels`` on every frame global; ``mode='l2'`` takes the L2
      norm of the whole difference tensor ``‖H_i(g_i) − f‖`` (the authors),
      ``'mse'`` the mean squared difference; ``f`` repeated over ``T`` and
      detached; reduced over the branches by ``branch_reduction`` (default
      sum, the spec's ``‖Hc(gc) − f‖ + ‖Ht(gt) − f‖``), times ``weight`` →
      ``loss_fd``.

    The distillation terms never update the teacher (``f``, HTA, the video
    BN-neck): they only see detached copies. A loss key is omitted when its
    term is disabled or its input feature is absent (None).

    Args:
        num_classes (int): Number of training identities.
        frame_channels (Sequence[int]): Widths of the branches' frame
            globals. Defaults to ``(2048, 768)``.
        spatial_channels (Sequence[int], optional): Widths of the spatial
            neck (CCA) outputs; None if the model has none. Defaults to
            ``(2048, 768)``.
        video_channels (int, optional): Width of the temporal neck (HTA)
            output; None if the model has none. Defaults to 1024.
        loss_ce (dict): Classification loss config. Defaults to
            ``mmpretrain.CrossEntropyLoss`` (no label smoothing).
        loss_triplet (dict, optional): Metric loss config; None disables
            the triplet terms. Defaults to cosine batch-hard, margin 0.3.
        frame_loss (bool): Frame-level supervision. Defaults to True.
        spatial_loss (bool): Video-level supervision of the CCA features.
            Defaults to True.
        video_loss (bool): Video-level supervision of ``f``. Defaults to
            True.
        loss_ld (dict, optional): ``weight`` (0.1), ``tau`` (0.3),
            ``tau_square`` (False), ``branch_reduction`` (``'mean'``); None
            disables LD. The authors' code uses ``weight=1``.
        loss_fd (dict, optional): ``weight`` (0.1), ``mode`` (``'l2'`` |
            ``'mse'``), ``hidden_channels`` (None: a hint net is one Linear
            ``C_i → video_channels``; an int ``h``: the bottleneck
            Linear(C_i→h)–BN–ReLU–Linear(h→video_channels)),
            ``branch_reduction`` (``'sum'``); None disables FD.
        freeze_bias (bool | dict): Freeze the BN shift of the BN-necks. A
            bool applies to all; a dict with keys ``frame``, ``spatial``,
            ``video`` (missing keys: True) maps to a bool or one bool per
            branch. The paper freezes it on the ViT base feature:
            ``dict(frame=(False, True), spatial=False, video=False)``.
            Defaults to True (every neck, as the baseline head).
        init_cfg (dict | list[dict], optional): Initialisation config.

    Note:
        A BN-neck is only built for a feature that is trained: frame necks
        if ``frame_loss`` or LD, spatial necks if ``spatial_loss``, the video
        neck if ``video_loss`` or LD. :meth:`predict` raises for a feature
        without a neck.
    """

    def __init__(self,
                 num_classes: int,
                 frame_channels: Sequence[int] = (2048, 768),
                 spatial_channels: Optional[Sequence[int]] = (2048, 768),
                 video_channels: Optional[int] = 1024,
                 loss_ce: dict = dict(type='mmpretrain.CrossEntropyLoss'),
                 loss_triplet: Optional[dict] = dict(
                     type='TripletLoss', margin=0.3, distance='cosine'),
                 frame_loss: bool = True,
                 spatial_loss: bool = True,
                 video_loss: bool = True,
                 loss_ld: Optional[dict] = dict(weight=0.1, tau=0.3),
                 loss_fd: Optional[dict] = dict(weight=0.1, mode='l2'),
                 freeze_bias: FreezeBias = True,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.frame_channels = tuple(frame_channels)
        self.spatial_channels = (
            tuple(spatial_channels) if spatial_channels is not None else None)
        self.video_channels = video_channels
        self.frame_loss = frame_loss
        self.spatial_loss = spatial_loss
        self.video_loss = video_loss
        self.freeze_bias = freeze_bias

        self.ld_cfg = (
            _with_defaults(loss_ld, _LD_DEFAULTS, 'loss_ld')
            if loss_ld is not None else None)
        self.fd_cfg = (
            _with_defaults(loss_fd, _FD_DEFAULTS, 'loss_fd')
            if loss_fd is not None else None)
        if self.ld_cfg is not None and self.ld_cfg['tau'] <= 0:
            raise ValueError(f"loss_ld.tau must be > 0, got "
                             f"{self.ld_cfg['tau']}")
        if self.fd_cfg is not None and self.fd_cfg['mode'] not in ('l2',
                                                                   'mse'):
            raise ValueError("loss_fd.mode must be 'l2' or 'mse', got "
                             f"{self.fd_cfg['mode']!r}")
        if (self.ld_cfg or self.fd_cfg) and video_channels is None:
            raise ValueError('Self-distillation (loss_ld / loss_fd) needs '
                             'the video feature: set video_channels, or '
                             'loss_ld=None and loss_fd=None.')

        self.frame_necks = None
        if frame_loss or self.ld_cfg is not None:
            self.frame_necks = self._build_necks('frame', self.frame_channels)
        self.spatial_necks = None
        if spatial_loss and self.spatial_channels is not None:
            self.spatial_necks = self._build_necks('spatial',
                                                   self.spatial_channels)
        self.video_neck = None
        if video_channels is not None and (video_loss
                                           or self.ld_cfg is not None):
            self.video_neck = self._build_necks('video', (video_channels, ))[0]
        self.hints = None
        if self.fd_cfg is not None:
            self.hints = nn.ModuleList(
                self._build_hint(c, video_channels,
                                 self.fd_cfg['hidden_channels'])
                for c in self.frame_channels)

        self.loss_ce = MODELS.build(loss_ce)
        self.loss_triplet = (
            MODELS.build(loss_triplet) if loss_triplet is not None else None)

    # ------------------------------------------------------------------
    # construction helpers
    # ------------------------------------------------------------------
    def _freeze_flags(self, key: str, num: int) -> List[bool]:
        value = self.freeze_bias
        if isinstance(value, dict):
            unknown = set(value) - {'frame', 'spatial', 'video'}
            if unknown:
                raise ValueError(f'Unknown freeze_bias keys {sorted(unknown)}'
                                 "; allowed: 'frame', 'spatial', 'video'")
            value = value.get(key, True)
        if isinstance(value, bool):
            return [value] * num
        flags = [bool(v) for v in value]
        if len(flags) != num:
            raise ValueError(f'freeze_bias[{key!r}] needs {num} flags, got '
                             f'{len(flags)}')
        return flags

    def _build_necks(self, key: str, channels: Sequence[int]) -> nn.ModuleList:
        return nn.ModuleList(
            BNNeck(c, self.num_classes, freeze_bias=f)
            for c, f in zip(channels, self._freeze_flags(key, len(channels))))

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
    def _check_branches(name: str, got: Sequence, expected: Sequence[int]):
        if len(got) != len(expected):
            raise ValueError(f'SelfDistillationHead was built for '
                             f'{len(expected)} {name} features (widths '
                             f'{tuple(expected)}), got {len(got)}')

    def _frame_losses(
            self, frame: Sequence[torch.Tensor], labels: torch.Tensor
    ) -> Tuple[List[torch.Tensor], List[torch.Tensor], List[torch.Tensor]]:
        """Per-branch frame-level CE, triplet and logits.

        Args:
            frame (Sequence[torch.Tensor]): Frame globals, each
                ``(B, T, C_i)``.
            labels (torch.Tensor): Tracklet labels ``(B,)``.

        Returns:
            tuple[list, list, list]: Per-branch CE losses, triplet losses
            (empty if disabled) and frame logits ``(B·T, K)``.
        """
        ce, tri, logits_all = [], [], []
        for neck, g in zip(self.frame_necks, frame):
            num_tracklets, num_frames = g.shape[:2]
            bn_feats, logits = neck(g.flatten(0, 1))
            logits_all.append(logits)
            if not self.frame_loss:
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
            feats (dict): ``frame`` — tuple of frame globals, each
                ``(B, T, C_i)``; ``spatial`` — tuple of spatial-neck outputs,
                each ``(B, T, C_i)``, or None; ``video`` — the temporal-neck
                output ``(B, video_channels)`` or None.
            data_samples (Sequence[VideoReIDDataSample]): With ``gt_label``.

        Returns:
            dict[str, torch.Tensor]: Scalars ``loss_ce_frame``,
            ``loss_tri_frame``, ``loss_ce_video``, ``loss_tri_video``,
            ``loss_ld``, ``loss_fd`` — the enabled ones whose input is
            present.
        """
        frame = feats.get('frame')
        spatial = feats.get('spatial')
        video = feats.get('video')
        if frame is None:
            raise ValueError("SelfDistillationHead.loss needs feats['frame']")
        self._check_branches('frame', frame, self.frame_channels)
        num_tracklets, num_frames = frame[0].shape[:2]
        labels = torch.cat([ds.gt_label for ds in data_samples]).to(
            frame[0].device)
        if labels.numel() != num_tracklets:
            raise ValueError(f'Got {labels.numel()} labels for '
                             f'{num_tracklets} tracklets')
        losses = {}

        frame_logits: List[torch.Tensor] = []
        if self.frame_necks is not None:
            ce, tri, frame_logits = self._frame_losses(frame, labels)
            if ce:
                losses['loss_ce_frame'] = torch.stack(ce).mean()
            if tri:
                losses['loss_tri_frame'] = torch.stack(tri).mean()

        # video level: TAP(CCA) per branch and f
        supervised: List[Tuple[torch.Tensor, torch.Tensor]] = []
        if self.spatial_necks is not None and spatial is not None:
            self._check_branches('spatial', spatial, self.spatial_channels)
            supervised.extend(
                neck(y.mean(dim=1))
                for neck, y in zip(self.spatial_necks, spatial))
        video_logits = None
        if self.video_neck is not None and video is not None:
            bn_video, video_logits = self.video_neck(video)
            if self.video_loss:
                supervised.append((bn_video, video_logits))
        if supervised:
            losses['loss_ce_video'] = torch.stack(
                [self.loss_ce(logits, labels)
                 for _, logits in supervised]).mean()
            if self.loss_triplet is not None:
                losses['loss_tri_video'] = torch.stack([
                    self.loss_triplet(bn_feats, labels)
                    for bn_feats, _ in supervised
                ]).mean()

        # self-distillation: the teacher (f, its logits) is detached
        if self.ld_cfg is not None and video_logits is not None:
            tau = self.ld_cfg['tau']
            teacher = F.log_softmax(
                video_logits.detach().float() / tau,
                dim=1).repeat_interleave(num_frames, dim=0)
            kl = [
                F.kl_div(
                    F.log_softmax(z.float() / tau, dim=1),
                    teacher,
                    reduction='batchmean',
                    log_target=True) for z in frame_logits
            ]
            ld = _reduce(kl, self.ld_cfg['branch_reduction'])
            if self.ld_cfg['tau_square']:
                ld = ld * tau**2
            losses['loss_ld'] = self.ld_cfg['weight'] * ld
        if self.fd_cfg is not None and video is not None:
            target = video.detach().float().repeat_interleave(
                num_frames, dim=0)
            dists = []
            for hint, g in zip(self.hints, frame):
                diff = hint(g.flatten(0, 1)).float() - target
                dists.append(
                    torch.linalg.vector_norm(diff) if self.fd_cfg['mode'] ==
                    'l2' else diff.pow(2).mean())
            losses['loss_fd'] = self.fd_cfg['weight'] * _reduce(
                dists, self.fd_cfg['branch_reduction'])
        return losses

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------
    def predict(self, feats: Dict, feature: str = 'final') -> torch.Tensor:
        """BN-neck test features.

        Args:
            feats (dict): As in :meth:`loss`.
            feature (str): ``'spatial'`` — concat of the BN-neck features of
                ``TAP(y_i)`` ``(B, sum(spatial_channels))``; ``'final'`` —
                BN-neck of ``f`` ``(B, video_channels)``; ``'bnneck'`` —
                concat of the frame BN-necks on ``TAP(g_i)``
                ``(B, sum(frame_channels))``. (``'all'`` is assembled by the
                model.)

        Returns:
            torch.Tensor: Features, shape ``(B, C)``.
        """
        if feature == 'spatial':
            if feats.get('spatial') is None:
                raise ValueError("feature='spatial' needs the spatial neck's "
                                 "output (feats['spatial'] is None): the "
                                 'model has no spatial_neck.')
            if self.spatial_necks is None:
                raise ValueError("feature='spatial' needs the spatial "
                                 'BN-necks; this head has none (spatial_loss'
                                 '=False or spatial_channels=None).')
            self._check_branches('spatial', feats['spatial'],
                                 self.spatial_channels)
            return torch.cat([
                neck.bn(y.mean(dim=1))
                for neck, y in zip(self.spatial_necks, feats['spatial'])
            ],
                             dim=1)
        if feature == 'final':
            if feats.get('video') is None:
                raise ValueError("feature='final' needs the temporal neck's "
                                 "output (feats['video'] is None): the model "
                                 'has no temporal_neck.')
            if self.video_neck is None:
                raise ValueError("feature='final' needs the video BN-neck; "
                                 'this head has none (video_loss=False and '
                                 'no LD, or video_channels=None).')
            return self.video_neck.bn(feats['video'])
        if feature == 'bnneck':
            if self.frame_necks is None:
                raise ValueError("feature='bnneck' needs the frame BN-necks; "
                                 'this head has none (frame_loss=False and '
                                 'no LD).')
            self._check_branches('frame', feats['frame'], self.frame_channels)
            return torch.cat([
                neck.bn(g.mean(dim=1))
                for neck, g in zip(self.frame_necks, feats['frame'])
            ],
                             dim=1)
        raise ValueError("SelfDistillationHead.predict supports feature="
                         "'spatial', 'final' or 'bnneck', got "
                         f'{feature!r}')

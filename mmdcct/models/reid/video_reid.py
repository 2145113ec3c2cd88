"""Video-based person Re-ID model: backbone(s) → necks → head."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModel

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from ..heads.utils import STAGES
from ..utils import turn_on_activation_checkpointing
from .widths import WidthResolver

#: The named test-feature modes; ``'+'``-joined stages (e.g.
#: ``'base+final'``) or a list of stages are accepted as well.
FEATURE_MODES = STAGES + ('all', )
#: ``test_cfg.branch`` names -> index of the branch in the coupled backbone.
BRANCHES = {'cnn': 0, 'transformer': 1}


def parse_feature(feature: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """Stages of a ``test_cfg.feature`` value, in the order of ``STAGES``.

    Args:
        feature (str | Sequence[str]): ``'all'``, a stage, ``'+'``-joined
            stages (``'base+final'``) or a list of stages.

    Returns:
        tuple[str]: ``('all', )`` or the distinct stages, ordered as
        ``STAGES`` (the order of concatenation, whatever the given order).

    Raises:
        ValueError: For an unknown, repeated or empty stage.
    """
    if isinstance(feature, str):
        if feature == 'all':
            return ('all', )
        names = feature.split('+')
    elif isinstance(feature, (list, tuple)):
        names = list(feature)
    else:
        names = [feature]
    bad = [n for n in names if n not in STAGES]
    if bad or not names or len(set(names)) != len(names):
        raise ValueError(
            f'test_cfg.feature must be one of {FEATURE_MODES}, or distinct '
            f"stages of {STAGES} joined by '+' (e.g. 'base+final') or in a "
            f'list; got {feature!r}')
    return tuple(stage for stage in STAGES if stage in names)


@MODELS.register_module()
class VideoReID(BaseModel):
    """Video Re-ID model following the DCCT design.

    Frames ``(B, T, 3, H, W)`` are flattened to ``(B·T, 3, H, W)`` and fed to
    the coupled backbone. The optional spatial neck (e.g. CCA) refines every
    frame's features, the optional temporal neck (e.g. HTA) aggregates them
    into a video feature, and the head computes the losses.

    One name per feature stage (``STAGES``), the same in ``test_cfg.feature``,
    the feature dict of :meth:`extract_feat`, the heads' ``predict`` and
    their arguments (``base_channels``, ``freeze_bias=dict(base=...)``):

    - ``base``: each branch's backbone globals ``g_i`` ``(B, T, C_i)``;
      test feature ``TAP(g_i)`` (no BN-neck).
    - ``spatial``: the spatial-neck outputs ``y_i`` ``(B, T, C_i)``; test
      feature the BN-neck of ``TAP(y_i)``.
    - ``final``: the temporal-neck output ``f`` ``(B, D)``; test feature its
      BN-neck.

    Losses are named by supervision level, a different concept: ``frame``
    (every frame of the base features: ``loss_ce_frame``,
    ``loss_tri_frame``) and ``video`` (one feature per tracklet:
    ``loss_ce_video``, ``loss_tri_video``); ``loss_ld`` / ``loss_fd`` are
    the self-distillation terms. With both necks
    ``None`` the model is the paper's "Coupled" baseline. Without a temporal
    neck but with a spatial neck it is "+ CCA" (HTA depth 0): the ``'final'``
    feature then does not exist and ``'all'`` is base + spatial. A feature
    the model cannot produce is a ``ValueError`` when the model is built
    (and when a changed ``test_cfg`` is used).

    Args:
        backbone (dict): Config of the backbone: any module returning a
            tuple with one ``(local (N, L_i, C_i), global (N, C_i))`` pair
            per branch — :class:`CoupledBackbone` (two branches) or
            :class:`SingleBackbone` (one branch: the single-backbone
            baselines; no neck then, only a head with one input width).
        head (dict, optional): Config of the head (losses and BN-neck
            features). Needed for training.
        spatial_neck (dict, optional): Per-frame neck over both branches.
        temporal_neck (dict, optional): Temporal aggregation neck. The
            input widths of the necks and the head (``in_channels``,
            ``base_channels``, ``spatial_channels``, ``final_channels``)
            that the configs leave unset (missing or None) are taken from
            the built backbone's ``out_channels``; widths set by hand are
            checked, and all wrong ones named in one ``ValueError``
            (:class:`~mmdcct.models.reid.widths.WidthResolver`).
        data_preprocessor (dict, optional): Defaults to
            ``VideoReIDDataPreprocessor``.
        train_cfg (dict, optional): Unused, kept for OpenMMLab symmetry.
        test_cfg (dict, optional): ``feature`` — a stage: ``'base'``
            (concat of the time-averaged backbone globals; runs the
            backbones only), ``'spatial'`` (BN-neck features of the
            time-averaged spatial-neck outputs), ``'final'`` (BN-neck
            feature of the temporal neck's output); several stages joined
            by ``'+'`` or in a list (``'base+final'``, Fig. 6), concatenated
            in that order; or ``'all'``, every stage the model has (needs
            a head; the Coupled baseline without necks: base + its BN-neck
            feature).
            ``branch`` — None (both branches), ``'cnn'`` or
            ``'transformer'``: only that branch's part of the ``base`` and
            ``spatial`` features (Tab. VI evaluates each branch alone).
            ``max_clips_per_forward`` — bound on the clips (of T frames) run
            in one backbone call in multi-clip (dense) testing. Defaults to
            ``dict(feature='base', branch=None, max_clips_per_forward=16)``.
        channels_last (bool): Keep the backbone's 4-D weights and the frames
            in ``torch.channels_last`` memory format (faster convolutions
            with cuDNN / oneDNN; same results up to float rounding).
            Defaults to False.
        activation_checkpointing (Sequence[str]): Dotted names of submodules
            whose activations are recomputed in the backward pass instead of
            stored (a ``ModuleList`` name means each of its layers), e.g.
            ``['backbone.transformer.layers']`` for the ViT. Saves memory at
            the cost of a second forward; results unchanged. Defaults to ().
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 head: Optional[dict] = None,
                 spatial_neck: Optional[dict] = None,
                 temporal_neck: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 channels_last: bool = False,
                 activation_checkpointing: Sequence[str] = (),
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='VideoReIDDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        # Widths the config leaves unset come from the built backbone; the
        # wrong ones are reported together (see WidthResolver).
        widths = WidthResolver(self.backbone)
        spatial_neck = widths.neck(spatial_neck, 'spatial_neck')
        self.spatial_neck = (
            MODELS.build(spatial_neck) if spatial_neck is not None else None)
        temporal_neck = widths.neck(temporal_neck, 'temporal_neck',
                                    self.spatial_neck)
        self.temporal_neck = (
            MODELS.build(temporal_neck) if temporal_neck is not None else None)
        head = widths.head(head, self.spatial_neck, self.temporal_neck)
        widths.check(backbone=backbone, spatial_neck=spatial_neck,
                     temporal_neck=temporal_neck, head=head)
        self.head = MODELS.build(head) if head is not None else None
        self.train_cfg = train_cfg or {}
        self.test_cfg = dict(
            feature='base', branch=None, max_clips_per_forward=16)
        self.test_cfg.update(test_cfg or {})
        self.resolve_test_stages()  # fail at build time, not after training
        self.channels_last = channels_last
        if channels_last:
            # Only 4-D tensors (conv weights) change layout; loading a
            # checkpoint copies into them and keeps it.
            self.backbone.to(memory_format=torch.channels_last)
        self.checkpointed_modules = turn_on_activation_checkpointing(
            self, activation_checkpointing)

    # ------------------------------------------------------------------
    # feature extraction
    # ------------------------------------------------------------------
    def extract_frame_feats(
        self, inputs: torch.Tensor
    ) -> Tuple[tuple, Tuple[torch.Tensor, ...]]:
        """Run the coupled backbone on every frame.

        Args:
            inputs (torch.Tensor): Tracklets, shape ``(B, T, 3, H, W)``.

        Returns:
            tuple: The raw backbone output (per branch ``(local, global)``
            over ``B·T`` frames) and the per-branch global features reshaped
            to ``(B, T, C_i)``.
        """
        num_tracklets, num_frames = inputs.shape[:2]
        frames = inputs.flatten(0, 1)
        if self.channels_last:
            frames = frames.contiguous(memory_format=torch.channels_last)
        branch_feats = self.backbone(frames)
        frame = tuple(
            glob.view(num_tracklets, num_frames, -1)
            for _, glob in branch_feats)
        return branch_feats, frame

    def extract_feat(self, inputs: torch.Tensor,
                     stage: str = 'all') -> Dict[str, Optional[tuple]]:
        """Compute the features of every stage up to ``stage``.

        Args:
            inputs (torch.Tensor): Tracklets, shape ``(B, T, 3, H, W)``.
            stage (str): ``'base'`` stops after the backbone (no neck runs);
                anything else also runs the spatial and temporal necks.

        Returns:
            dict: ``base`` — tuple of ``(B, T, C_i)`` backbone globals;
            ``spatial`` — tuple of ``(B, T, C_i)`` spatial-neck outputs or
            None; ``final`` — ``(B, D)`` temporal-neck output or None.
        """
        num_tracklets, num_frames = inputs.shape[:2]
        branch_feats, base = self.extract_frame_feats(inputs)
        feats: Dict[str, Optional[Union[tuple, torch.Tensor]]] = dict(
            base=base, spatial=None, final=None)
        if stage == 'base':
            return feats
        if self.spatial_neck is not None:
            feats['spatial'] = tuple(
                y.view(num_tracklets, num_frames, -1)
                for y in self.spatial_neck(branch_feats))
        if self.temporal_neck is not None:
            temporal_in = feats['spatial'] or base
            feats['final'] = self.temporal_neck(temporal_in)
        return feats

    def _describe(self) -> str:
        """One line naming the model's parts, for error messages."""
        parts = ('backbone', 'spatial_neck', 'temporal_neck', 'head')
        return ', '.join(
            f'{part}={type(getattr(self, part)).__name__}'
            if getattr(self, part) is not None else f'{part}=None'
            for part in parts)

    def available_stages(self) -> Tuple[str, ...]:
        """The test-feature stages this model can produce.

        Returns:
            tuple[str]: ``'base'`` always; ``'spatial'`` / ``'final'`` with
            a head and a spatial / temporal neck.
        """
        stages = ['base']
        if self.head is not None and self.spatial_neck is not None:
            stages.append('spatial')
        if self.head is not None and self.temporal_neck is not None:
            stages.append('final')
        return tuple(stages)

    def resolve_test_stages(self) -> Tuple[str, ...]:
        """Check ``test_cfg`` and resolve its feature into stages.

        Returns:
            tuple[str]: The stages to concatenate, in ``STAGES`` order;
            ``'base_bnneck'`` stands for the BN-neck feature of the base
            stage, part of ``'all'`` for a model without necks.

        Raises:
            ValueError: If the model cannot produce ``test_cfg.feature``
                or ``test_cfg.branch``.
        """
        feature = self.test_cfg['feature']
        stages = parse_feature(feature)
        available = self.available_stages()
        if stages == ('all', ):
            if self.head is None:
                raise ValueError(
                    "test_cfg.feature='all' needs a head (its BN-neck "
                    f'features); this model has {self._describe()}. It can '
                    "produce feature='base' only (the backbones).")
            stages = available
            if available == ('base', ):
                stages = ('base', 'base_bnneck')  # the baseline's BN-necks
        missing = [
            s for s in stages if s not in available + ('base_bnneck', )
        ]
        if missing:
            needs = dict(spatial='a spatial neck and a head',
                         final='a temporal neck and a head')
            raise ValueError(
                f'test_cfg.feature={feature!r} needs the '
                f"{' and '.join(repr(m) for m in missing)} stage (which "
                f"needs {' / '.join(needs[m] for m in missing)}); this model "
                f'has {self._describe()}. It can produce the stages '
                f"{available}, alone or joined by '+' (e.g. "
                f"{'+'.join(available)!r}), or 'all'.")
        branch = self.test_cfg.get('branch')
        if branch is not None:
            if branch not in BRANCHES:
                raise ValueError(
                    f'test_cfg.branch must be None or one of '
                    f'{tuple(BRANCHES)}, got {branch!r}')
            if not all(hasattr(self.backbone, b) for b in BRANCHES):
                raise ValueError(
                    f'test_cfg.branch={branch!r} needs a two-branch '
                    f'(CoupledBackbone) model; this model has '
                    f'{self._describe()}.')
            if 'final' in stages:
                raise ValueError(
                    f'test_cfg.branch={branch!r} selects one branch of the '
                    f"'base' / 'spatial' features, but test_cfg.feature="
                    f"{feature!r} includes 'final', which fuses both "
                    "branches; use feature='base', 'spatial' or "
                    "'base+spatial', or branch=None.")
        return stages

    def _clip_features(self, clips: torch.Tensor,
                       stages: Sequence[str]) -> torch.Tensor:
        """Test features of clips ``(N, T, 3, H, W)`` → ``(N, C)``.

        The one place that assembles a test feature from its stages.

        Args:
            clips (torch.Tensor): Clips, shape ``(N, T, 3, H, W)``.
            stages (Sequence[str]): From :meth:`resolve_test_stages`.

        Returns:
            torch.Tensor: The stages' features concatenated, ``(N, C)``.
        """
        if stages == ('base', ):  # the backbones only: no neck, no head
            feats = dict(base=self.extract_frame_feats(clips)[1])
        else:
            feats = self.extract_feat(clips)
        # the head's stage for each stage given through a BN-neck
        head_stage = dict(base_bnneck='base', spatial='spatial', final='final')
        bnneck = {}
        if any(s in head_stage for s in stages):
            bnneck = self.head.predict(
                feats, [head_stage[s] for s in stages if s in head_stage])
        branch = self.test_cfg.get('branch')
        parts: List[torch.Tensor] = []
        for stage in stages:
            if stage == 'base':
                per_branch = [f.mean(dim=1) for f in feats['base']]
            else:
                per_branch = list(bnneck[head_stage[stage]])
            if branch is not None and stage != 'final':
                per_branch = [per_branch[BRANCHES[branch]]]
            parts.extend(per_branch)
        return torch.cat(parts, dim=1)

    def extract_test_feat(
        self,
        inputs: Union[torch.Tensor, Sequence[torch.Tensor]],
        data_samples: Optional[Sequence[VideoReIDDataSample]] = None
    ) -> torch.Tensor:
        """One feature per tracklet, averaging multi-clip (dense) inputs.

        Args:
            inputs (torch.Tensor | Sequence[torch.Tensor]): ``(B, K·T, 3, H,
                W)``, or a list of ``(K_i·T, 3, H, W)`` tensors when the
                tracklets have different clip counts ``K_i``.
            data_samples (Sequence[VideoReIDDataSample], optional): Their
                ``num_clips`` meta field gives ``K_i`` (1 if absent).

        Returns:
            torch.Tensor: Features, shape ``(B, C)``. The clips of all
            tracklets are run together, at most
            ``test_cfg.max_clips_per_forward`` clips per backbone call.
        """
        tracklets = list(inputs)
        if data_samples:
            clip_counts = [int(ds.get('num_clips', 1)) for ds in data_samples]
        else:
            clip_counts = [1] * len(tracklets)
        clips = []
        for tracklet, count in zip(tracklets, clip_counts):
            if tracklet.shape[0] % count:
                raise ValueError(
                    f'{tracklet.shape[0]} frames of a tracklet cannot be '
                    f'split into num_clips={count} clips')
            clips.append(
                tracklet.view(count, tracklet.shape[0] // count,
                              *tracklet.shape[1:]))
        clip_lens = {c.shape[1] for c in clips}
        if len(clip_lens) != 1:
            raise ValueError('All clips of a test batch must have the same '
                             f'number of frames, got {sorted(clip_lens)}')
        clips = torch.cat(clips)
        stages = self.resolve_test_stages()
        step = max(1, int(self.test_cfg['max_clips_per_forward']))
        feats = torch.cat([
            self._clip_features(clips[i:i + step], stages)
            for i in range(0, len(clips), step)
        ])
        return torch.stack(
            [f.mean(dim=0) for f in feats.split(clip_counts)])

    # ------------------------------------------------------------------
    # BaseModel API
    # ------------------------------------------------------------------
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[VideoReIDDataSample]] = None,
                mode: str = 'tensor'):
        """The unified entry of ``loss``, ``predict`` and ``tensor`` modes.

        Args:
            inputs (torch.Tensor): Tracklets, shape ``(B, T, 3, H, W)``.
            data_samples (list[VideoReIDDataSample], optional): Annotations.
            mode (str): ``'loss'`` returns a dict of losses, ``'predict'``
                the data samples with ``pred_feature`` set, ``'tensor'`` the
                test features ``(B, C)``.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_test_feat(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           'predict and tensor mode')

    def loss(self, inputs: torch.Tensor,
             data_samples: List[VideoReIDDataSample]) -> dict:
        """Compute the training losses.

        Args:
            inputs (torch.Tensor): Tracklets, shape ``(B, T, 3, H, W)``.
            data_samples (list[VideoReIDDataSample]): With ``gt_label``.

        Returns:
            dict[str, torch.Tensor]: Loss terms, each logged separately.
        """
        if self.head is None:
            raise ValueError('VideoReID needs a head to compute losses.')
        return self.head.loss(self.extract_feat(inputs), data_samples)

    def predict(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[VideoReIDDataSample]] = None
    ) -> List[VideoReIDDataSample]:
        """Compute one test feature per tracklet.

        Args:
            inputs (torch.Tensor): Tracklets, shape ``(B, K·T, 3, H, W)``.
            data_samples (list[VideoReIDDataSample], optional): Annotations.

        Returns:
            list[VideoReIDDataSample]: With ``pred_feature`` ``(C,)`` set.
        """
        feats = self.extract_test_feat(inputs, data_samples)
        if data_samples is None:
            data_samples = [VideoReIDDataSample() for _ in range(len(feats))]
        for data_sample, feat in zip(data_samples, feats):
            data_sample.set_pred_feature(feat)
        return data_samples

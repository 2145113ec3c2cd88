"""Video-based person Re-ID model: backbone(s) → necks → head."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModel

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from ..utils import turn_on_activation_checkpointing

FEATURE_MODES = ('base', 'spatial', 'final', 'all')


@MODELS.register_module()
class VideoReID(BaseModel):
    """Video Re-ID model following the DCCT design.

    Frames ``(B, T, 3, H, W)`` are flattened to ``(B·T, 3, H, W)`` and fed to
    the coupled backbone. The optional spatial neck (e.g. CCA) refines every
    frame's features, the optional temporal neck (e.g. HTA) aggregates them
    into a video feature, and the head computes the losses. With both necks
    ``None`` the model is the paper's "Coupled" baseline. Without a temporal
    neck but with a spatial neck it is "+ CCA" (HTA depth 0): the ``'final'``
    feature then does not exist and ``'all'`` is base + spatial.

    Args:
        backbone (dict): Config of the backbone: any module returning a
            tuple with one ``(local (N, L_i, C_i), global (N, C_i))`` pair
            per branch — :class:`CoupledBackbone` (two branches) or
            :class:`SingleBackbone` (one branch: the single-backbone
            baselines; no neck then, only a head with one input width).
        head (dict, optional): Config of the head (losses and BN-neck
            features). Needed for training.
        spatial_neck (dict, optional): Per-frame neck over both branches.
        temporal_neck (dict, optional): Temporal aggregation neck.
        data_preprocessor (dict, optional): Defaults to
            ``VideoReIDDataPreprocessor``.
        train_cfg (dict, optional): Unused, kept for OpenMMLab symmetry.
        test_cfg (dict, optional): ``feature`` — ``'base'`` (concat of the
            time-averaged backbone globals; runs the backbones only),
            ``'spatial'``, ``'final'`` or ``'all'``; ``max_clips_per_forward``
            — bound on the clips (of T frames) run in one backbone call in
            multi-clip (dense) testing. Defaults to
            ``dict(feature='base', max_clips_per_forward=16)``.
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
        self.spatial_neck = (
            MODELS.build(spatial_neck) if spatial_neck is not None else None)
        self.temporal_neck = (
            MODELS.build(temporal_neck) if temporal_neck is not None else None)
        self.head = MODELS.build(head) if head is not None else None
        self.train_cfg = train_cfg or {}
        self.test_cfg = dict(feature='base', max_clips_per_forward=16)
        self.test_cfg.update(test_cfg or {})
        feature = self.test_cfg['feature']
        if feature not in FEATURE_MODES:
            raise ValueError(f'test_cfg.feature must be one of '
                             f'{FEATURE_MODES}, got {feature!r}')
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
            dict: ``frame`` — tuple of ``(B, T, C_i)`` backbone globals;
            ``spatial`` — tuple of ``(B, T, C_i)`` spatial-neck outputs or
            None; ``video`` — ``(B, D)`` temporal-neck output or None.
        """
        num_tracklets, num_frames = inputs.shape[:2]
        branch_feats, frame = self.extract_frame_feats(inputs)
        feats: Dict[str, Optional[Union[tuple, torch.Tensor]]] = dict(
            frame=frame, spatial=None, video=None)
        if stage == 'base':
            return feats
        if self.spatial_neck is not None:
            feats['spatial'] = tuple(
                y.view(num_tracklets, num_frames, -1)
                for y in self.spatial_neck(branch_feats))
        if self.temporal_neck is not None:
            temporal_in = feats['spatial'] or frame
            feats['video'] = self.temporal_neck(temporal_in)
        return feats

    def _clip_features(self, clips: torch.Tensor, feature: str) -> torch.Tensor:
        """Test features of clips ``(N, T, 3, H, W)`` → ``(N, C)``."""
        if feature == 'base':
            frame = self.extract_frame_feats(clips)[1]
            return torch.cat([f.mean(dim=1) for f in frame], dim=1)
        feats = self.extract_feat(clips)
        base = torch.cat([f.mean(dim=1) for f in feats['frame']], dim=1)
        if self.head is None:
            raise ValueError(f"test_cfg.feature={feature!r} needs a head "
                             '(its BN-neck features); this model has none.')
        if self.spatial_neck is None and self.temporal_neck is None:
            neck_feat = self.head.predict(feats, 'bnneck')
            return neck_feat if feature != 'all' else torch.cat(
                [base, neck_feat], dim=1)
        if feature in ('spatial', 'final'):
            return self.head.predict(feats, feature)
        parts = [base]
        if feats['spatial'] is not None:
            parts.append(self.head.predict(feats, 'spatial'))
        if feats['video'] is not None:
            parts.append(self.head.predict(feats, 'final'))
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
        feature = self.test_cfg['feature']
        step = max(1, int(self.test_cfg['max_clips_per_forward']))
        feats = torch.cat([
            self._clip_features(clips[i:i + step], feature)
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

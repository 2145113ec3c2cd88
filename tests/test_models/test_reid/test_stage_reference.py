"""Test features and losses equal those written before the stage names were
unified (``frame`` / ``video`` -> ``base`` / ``final``, ``VideoReIDHead`` ->
``BNNeckHead``, typed LD / FD losses), with the checkpoints of that code.

``tests/data/reference/stage_reference.pth`` holds the weights (state-dict
keys as saved then), inputs, test features of every mode and the losses of
three tiny models, written by ``make_stage_reference.py`` beside it. Here the
models are built with the current names and load those weights strictly.
"""
import os.path as osp

import pytest
import torch

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from mmdcct.utils import register_all_modules

register_all_modules()

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
REFERENCE = osp.join(REPO, 'tests/data/reference/stage_reference.pth')

CNN = dict(type='mmpretrain.ResNet', depth=18, base_channels=4,
           stem_channels=4, strides=(1, 2, 2, 1), out_indices=(3, ))
VIT = dict(type='mmpretrain.VisionTransformer',
           arch=dict(embed_dims=16, num_layers=1, num_heads=2,
                     feedforward_channels=32),
           img_size=(32, 16), patch_size=8, out_type='raw',
           drop_path_rate=0.0)
C1, C2, D, K, B, T = 32, 16, 24, 5, 4, 3
BACKBONE = dict(type='CoupledBackbone', cnn=CNN, transformer=VIT)
SPATIAL = dict(type='ComplementaryContentAttention', in_channels=(C1, C2))
TEMPORAL = dict(type='HierarchicalTemporalAggregation', in_channels=(C1, C2),
                embed_dims=D // 2, depth=1, num_heads=2, num_frames=T)
SD_HEAD = dict(
    type='SelfDistillationHead', num_classes=K, base_channels=(C1, C2),
    spatial_channels=(C1, C2), final_channels=D,
    loss_ld=dict(type='LogitDistillationLoss', tau=0.3, loss_weight=0.1),
    loss_fd=dict(type='FeatureDistillationLoss', mode='l2', loss_weight=0.1),
    freeze_bias=dict(base=(False, True), spatial=False, final=False))
MODELS_CFG = dict(
    dcct=dict(type='VideoReID', backbone=BACKBONE, spatial_neck=SPATIAL,
              temporal_neck=TEMPORAL, head=SD_HEAD),
    cca=dict(type='VideoReID', backbone=BACKBONE, spatial_neck=SPATIAL,
             head=dict(SD_HEAD, final_channels=None, loss_ld=None,
                       loss_fd=None)),
    coupled=dict(type='VideoReID', backbone=BACKBONE,
                 head=dict(type='BNNeckHead', num_classes=K,
                           in_channels=(C1, C2), freeze_bias=(False, True))),
)
# Same code, another CPU or thread count may round differently.
TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.fixture(scope='module')
def reference():
    return torch.load(REFERENCE, map_location='cpu', weights_only=True)


def _model(reference, name):
    model = MODELS.build(MODELS_CFG[name])
    state = dict(reference['states'][name])
    state.update({
        k: v
        for k, v in reference['states']['dcct'].items()
        if k.startswith('backbone.')
    })
    model.load_state_dict(state, strict=True)  # the old keys load as they are
    return model


@pytest.mark.parametrize('name', list(MODELS_CFG))
def test_test_features_of_every_mode(reference, name):
    model = _model(reference, name).eval()
    keys = [k for k in reference['features'] if k.startswith(name + '|')]
    assert len(keys) >= 4
    samples = [
        VideoReIDDataSample(metainfo=dict(num_clips=2)) for _ in range(B)
    ]
    for key in keys:
        _, mode, branch = key.split('|')
        model.test_cfg.update(
            feature=mode, branch=None if branch == 'None' else branch)
        with torch.no_grad():
            got = model(reference['inputs']['test'], samples, mode='tensor')
        torch.testing.assert_close(
            got, reference['features'][key], msg=key, **TOL)


@pytest.mark.parametrize('name, supervision', [('dcct', None), ('cca', None),
                                               ('coupled', 'frame'),
                                               ('coupled', 'video')])
def test_losses(reference, name, supervision):
    model = _model(reference, name).train()
    key = name
    if supervision is not None:
        model.head.supervision = supervision
        key = f'{name}_{supervision}'
    samples = [
        VideoReIDDataSample().set_gt_label(int(i))
        for i in reference['inputs']['labels']
    ]
    with torch.no_grad():
        got = model(reference['inputs']['train'], samples, mode='loss')
    expected = reference['losses'][key]
    assert list(got) == list(expected)  # the log names are unchanged
    for loss_name in expected:
        torch.testing.assert_close(
            got[loss_name], expected[loss_name], msg=loss_name, **TOL)

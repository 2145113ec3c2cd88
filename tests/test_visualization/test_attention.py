"""CCA attention maps and hand-made Grad-CAM on a tiny trained DCCT, and
tools/visualization/vis_attention.py on it."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

from mmdcct.apis import VideoReIDInferencer
from mmdcct.registry import MODELS
from mmdcct.visualization import (BranchProbe, VideoReIDVisualizer,
                                  compute_cca_attention, compute_grad_cam,
                                  infer_grid, tracklet_attention_maps)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
T = 4  # the tiny config's frames per tracklet (64 x 32)


@pytest.fixture(scope='module')
def inferencer(tiny_dcct):
    return VideoReIDInferencer(
        tiny_dcct['config'], tiny_dcct['checkpoint'], device='cpu')


@pytest.fixture(scope='module')
def inputs(inferencer, one_tracklet):
    data = [inferencer.prepare(one_tracklet)] * 2  # 2 tracklets
    return inferencer.model.data_preprocessor(pseudo_collate(data),
                                              False)['inputs']


def test_infer_grid():
    assert infer_grid(32, (64, 32)) == (8, 4)
    assert infer_grid(128, (256, 128)) == (16, 8)
    assert infer_grid(8, (64, 32)) == (4, 2)
    assert infer_grid(7, (10, 10)) in ((7, 1), (1, 7))


def test_cca_maps_on_each_branch_grid(inferencer, inputs):
    maps = compute_cca_attention(inferencer.model, inputs)
    assert set(maps) == {'cnn_self', 'cnn_cross', 'trans_self', 'trans_cross'}
    # ResNet-18 (strides 1,2,2,1) on 64x32: 4x2 map; ViT 8x8 patches: 8x4
    for key in ('cnn_self', 'cnn_cross'):
        assert maps[key].shape == (2, T, 4, 2)
    for key in ('trans_self', 'trans_cross'):
        assert maps[key].shape == (2, T, 8, 4)
    for value in maps.values():
        assert value.dtype == np.float32 and (value >= 0).all()
        np.testing.assert_allclose(value.sum(axis=(2, 3)), 1, rtol=1e-4)
    # the model's own forward gives the same CCA output
    with torch.no_grad():
        feats = inferencer.model.backbone(inputs.flatten(0, 1))
        _, attn = inferencer.model.spatial_neck(feats, return_attention=True)
    np.testing.assert_allclose(
        attn['trans_cross'].reshape(2, T, 8, 4).numpy(),
        maps['trans_cross'],
        rtol=1e-5)


@pytest.mark.parametrize('target', ['norm', 'logit'])
def test_grad_cam_maps(inferencer, inputs, target):
    model = inferencer.model
    maps = compute_grad_cam(model, inputs, target=target)
    assert maps['cnn'].shape == (2, T, 4, 2)
    assert maps['trans'].shape == (2, T, 8, 4)
    for value in maps.values():
        assert value.min() >= 0
        # every frame's map is scaled to peak 1: gradients reached it (the
        # ViT's class-token global is traced back through its last block)
        np.testing.assert_allclose(value.max(axis=(2, 3)), 1, rtol=1e-5)
    # no hook left behind, no gradient accumulated in the parameters
    for module in (model.backbone.cnn, model.backbone.transformer):
        assert not module._forward_hooks
    assert all(p.grad is None for p in model.parameters())


def test_grad_cam_is_the_gradient_weighted_map(inferencer, inputs):
    """Recompute the CNN Grad-CAM with plain autograd."""
    model = inferencer.model
    x = inputs.flatten(0, 1)
    with BranchProbe(model) as probe:
        feats = model.backbone(x)
    act = probe.outputs['cnn']  # (N, C, h, w)
    video = feats[0][1].view(2, T, -1).mean(1)
    grad, = torch.autograd.grad(video.norm(dim=1).sum(), act)
    cam = (grad.mean((2, 3), keepdim=True) * act).sum(1).clamp(min=0)
    cam = cam / cam.flatten(1).max(1)[0][:, None, None]
    np.testing.assert_allclose(
        compute_grad_cam(model, inputs)['cnn'],
        cam.detach().view(2, T, 4, 2).numpy(),
        rtol=1e-4,
        atol=1e-6)
    # a chosen identity for every tracklet
    assert compute_grad_cam(
        model, inputs, 'logit', class_index=3)['cnn'].shape == (2, T, 4, 2)


def test_cca_needs_a_cca_neck(tiny_video_reid_cfg, inputs):
    coupled = MODELS.build(tiny_video_reid_cfg(num_classes=6))
    with pytest.raises(ValueError, match='spatial neck'):
        compute_cca_attention(coupled, torch.zeros(1, 2, 3, 32, 16))
    # Grad-CAM works without necks (logits from BNNeckHead.necks)
    maps = compute_grad_cam(
        coupled.eval(), torch.randn(1, 2, 3, 32, 16), target='logit')
    assert maps['cnn'].shape == (1, 2, 2, 1)  # 32x16 frames
    assert maps['trans'].shape == (1, 2, 4, 2)


def test_tracklet_maps_and_figures(inferencer, one_tracklet, inputs):
    data = inferencer.prepare(one_tracklet)
    out = tracklet_attention_maps(inferencer.model, data, target='norm')
    assert out['frames'].shape == (T, 64, 32, 3)
    assert out['frames'].dtype == np.uint8
    # the maps of the packed tracklet are those of the preprocessed batch
    np.testing.assert_allclose(
        out['cca']['cnn_self'],
        compute_cca_attention(inferencer.model, inputs[:1])['cnn_self'],
        rtol=1e-5)
    np.testing.assert_allclose(
        out['grad_cam']['trans'],
        compute_grad_cam(inferencer.model, inputs[:1])['trans'],
        rtol=1e-4,
        atol=1e-6)
    vis = VideoReIDVisualizer.get_instance('test_att_figures')
    figs = vis.draw_attention_figures(
        out['frames'], out['cca'], out['grad_cam'], max_frames=3)
    layout = vis.heatmap_grid_layout
    assert figs['cca_figure'].shape[:2] == layout(3, 5)['shape']
    assert figs['grad_cam_figure'].shape[:2] == layout(3, 3)['shape']
    # both figures carry the colour scale: JET from 1 (top) to 0 (bottom)
    for name, rows in (('cca_figure', 5), ('grad_cam_figure', 3)):
        x0, y0, x1, y1 = layout(3, rows)['colorbar']
        top = cv2.applyColorMap(np.uint8([[255]]), cv2.COLORMAP_JET)
        bottom = cv2.applyColorMap(np.uint8([[0]]), cv2.COLORMAP_JET)
        np.testing.assert_array_equal(figs[name][y0, x0], top[0, 0, ::-1])
        np.testing.assert_array_equal(figs[name][y1 - 1, x1 - 1],
                                      bottom[0, 0, ::-1])
    # without CCA maps only the Grad-CAM grid is drawn
    figs = vis.draw_attention_figures(out['frames'], None, out['grad_cam'])
    assert figs['cca_figure'] is None
    assert figs['grad_cam_figure'].shape[:2] == layout(T, 3)['shape']


def test_vis_attention_tool(tiny_dcct, one_tracklet, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        '_tool_vis_attention',
        osp.join(REPO, 'tools/visualization/vis_attention.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out_dir = tmp_path / 'att'
    assert tool.main([
        tiny_dcct['config'], tiny_dcct['checkpoint'], one_tracklet,
        '--out-dir',
        str(out_dir), '--device', 'cpu'
    ]) == 0
    printed = capsys.readouterr().out
    layout = VideoReIDVisualizer.get_instance(
        'test_att_layout').heatmap_grid_layout
    for name, rows in (('cca_attention.png', 5), ('grad_cam.png', 3)):
        img = cv2.imread(str(out_dir / name))
        assert img is not None, name
        assert img.shape[:2] == layout(T, rows)['shape']
        assert str(out_dir / name) in printed
    with np.load(out_dir / 'maps.npz') as data:
        assert data['frames'].shape == (T, 64, 32, 3)
        assert data['cca_cnn_cross'].shape == (1, T, 4, 2)
        assert data['grad_cam_trans'].shape == (1, T, 8, 4)

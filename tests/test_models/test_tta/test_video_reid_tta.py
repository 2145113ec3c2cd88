"""Flip test-time augmentation: ``VideoReIDTTAModel`` + ``tools/test.py
--tta``."""
import argparse
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmdcct.registry import DATASETS, MODELS
from mmdcct.structures import VideoReIDDataSample
from mmdcct.utils import register_all_modules

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
TEST_PIPELINE = [
    dict(type='RestrictedRandomSampling', num_frames=4, mode='begin'),
    dict(type='LoadTrackletFrames'),
    dict(
        type='TrackletBroadcaster',
        transforms=[
            dict(type='mmcv.Resize', scale=(16, 32), keep_ratio=False,
                 interpolation='bicubic')
        ]),
    dict(type='PackVideoReIDInputs'),
]


def _load_test_tool():
    spec = importlib.util.spec_from_file_location(
        'mmdcct_tools_test', osp.join(REPO, 'tools', 'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tta_cfg(tmp_path, root, tiny_video_reid_cfg):
    cfg = Config(
        dict(
            model=tiny_video_reid_cfg(6),
            test_dataloader=dict(
                dataset=dict(
                    type='MARS',
                    data_root=root,
                    split='test',
                    gallery_includes_query=True,
                    pipeline=TEST_PIPELINE))))
    args = argparse.Namespace(
        launcher='none', work_dir=str(tmp_path), checkpoint='x.pth',
        amp=False, show=False, show_dir=None, no_pin_memory=False,
        cfg_options=None, tta=True, config='tta.py')
    return _load_test_tool().merge_args(cfg, args)


def test_flip_tta_is_mean_of_frames_and_mirror_images(
        tmp_path, synthetic_mars_root, tiny_video_reid_cfg):
    cfg = _tta_cfg(tmp_path, synthetic_mars_root, tiny_video_reid_cfg)
    # tools/test.py --tta: the model wrapped, the flip views before packing
    assert cfg.model.type == 'mmdcct.VideoReIDTTAModel'
    assert cfg.model.module.type == 'VideoReID'
    tta_step = cfg.test_dataloader.dataset.pipeline[-1]
    assert tta_step.type == 'TestTimeAug'
    assert cfg.test_dataloader.dataset.pipeline[:-1] == TEST_PIPELINE[:-1]

    torch.manual_seed(0)
    tta_model = MODELS.build(cfg.model).eval()
    model = tta_model.module
    tta_set = DATASETS.build(cfg.test_dataloader.dataset)
    plain_cfg = cfg.test_dataloader.dataset.copy()
    plain_cfg.pipeline = TEST_PIPELINE
    plain_set = DATASETS.build(plain_cfg)

    indices = [0, 3, 7]
    with torch.no_grad():
        merged = tta_model.test_step(
            pseudo_collate([tta_set[i] for i in indices]))
        for i, out in zip(indices, merged):
            sample = plain_set[i]
            frames = sample['inputs']  # (T, 3, H, W) uint8
            feats = [
                model.test_step(
                    dict(
                        inputs=[x],
                        data_samples=[sample['data_samples']
                                      ]))[0].pred_feature
                for x in (frames, frames.flip(-1))  # mirror: along W
            ]
            torch.testing.assert_close(out.pred_feature,
                                       (feats[0] + feats[1]) / 2)
            # flipping changes the feature: the test would notice a no-op
            assert (feats[0] - feats[1]).abs().max() > 1e-4
            assert out.sample_idx == sample['data_samples'].sample_idx
            assert out.pid == sample['data_samples'].pid


def test_merge_preds_rejects_mixed_widths(tiny_video_reid_cfg):
    tta_model = MODELS.build(
        dict(type='VideoReIDTTAModel', module=tiny_video_reid_cfg(6)))
    a = VideoReIDDataSample()
    a.set_field(torch.ones(4), 'pred_feature')
    b = VideoReIDDataSample()
    b.set_field(torch.ones(6), 'pred_feature')
    with pytest.raises(ValueError, match='different shapes'):
        tta_model.merge_preds([[a, b]])
    c = VideoReIDDataSample()
    c.set_field(torch.zeros(4), 'pred_feature')
    out = tta_model.merge_preds([[a, c]])
    torch.testing.assert_close(out[0].pred_feature, torch.full((4, ), 0.5))

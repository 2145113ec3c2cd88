"""Dense test sampling end to end: dataset -> pipeline -> the real
``VideoReID`` model -> ``VideoReIDMetric``."""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator
from torch.utils.data import DataLoader

from mmdcct.testing import make_synthetic_ilids_vid
from mmdcct.registry import DATASETS, MODELS
from mmdcct.utils import register_all_modules

register_all_modules()



@pytest.fixture(scope='module')
def dense_root(tmp_path_factory):
    """iLIDS-VID layout whose tracklets all have 23 frames."""
    root = tmp_path_factory.mktemp('dense') / 'ilids'
    return make_synthetic_ilids_vid(
        str(root),
        num_persons=4,
        tracklet_len=(23, 23),
        img_size=(32, 16),
        num_splits=1,
        seed=0)['out_dir']


def test_dense_clips_are_averaged_per_tracklet(dense_root, tiny_video_reid_cfg):
    torch.manual_seed(0)
    dataset = DATASETS.build(
        dict(
            type='iLIDSVID',
            data_root=dense_root,
            split='test',
            pipeline=[
                dict(
                    type='RestrictedRandomSampling',
                    num_frames=8,
                    mode='dense'),
                dict(type='LoadTrackletFrames'),
                dict(type='PackVideoReIDInputs'),
            ]))
    assert len(dataset) == 4  # 2 test persons x (query cam1, gallery cam2)
    item = dataset[0]
    assert dataset.get_data_info(0)['num_frames'] == 23
    assert item['data_samples'].num_clips == 3  # ceil(23 / 8)
    assert item['inputs'].shape == (3 * 8, 3, 32, 16)

    model = MODELS.build(
        tiny_video_reid_cfg(
            num_classes=2, test_cfg=dict(max_clips_per_forward=2)))
    model.eval()
    calls = []
    model.backbone.register_forward_hook(
        lambda m, args, out: calls.append(args[0].shape[0]))
    loader = DataLoader(
        dataset, batch_size=2, shuffle=False, collate_fn=pseudo_collate)
    evaluator = Evaluator(dict(type='VideoReIDMetric'))
    features = []
    with torch.no_grad():
        for data in loader:
            outputs = model.test_step(data)
            evaluator.process(data_samples=outputs, data_batch=data)
            features += [o.pred_feature for o in outputs]
    # bounded clips per forward: 2 tracklets x 3 clips in chunks of 2 clips
    assert calls and max(calls) <= 2 * 8
    assert len(features) == len(dataset)

    # the reference: every clip on its own (num_clips=1), then the mean
    with torch.no_grad():
        for idx, feat in enumerate(features):
            inputs = dataset[idx]['inputs']
            clips = [
                dict(inputs=[inputs[c * 8:(c + 1) * 8]]) for c in range(3)
            ]
            per_clip = torch.cat([
                model(**model.data_preprocessor(c, False), mode='tensor')
                for c in clips
            ])
            assert per_clip.shape == (3, 128 + 32)
            torch.testing.assert_close(
                feat, per_clip.mean(0), rtol=1e-4, atol=1e-5)
            # genuinely different clips, so the average is not trivial
            assert not torch.allclose(per_clip[0], per_clip[2], atol=1e-4)

    # the metric receives one feature per tracklet
    results = evaluator.metrics[0].results
    assert len(results) == len(dataset)
    assert all(r['feature'].shape == (160, ) for r in results)
    assert sum(r['is_query'] for r in results) == 2
    metrics = evaluator.evaluate(len(dataset))
    assert set(metrics) >= {'mAP', 'R1'}
    assert np.isfinite(metrics['mAP'])

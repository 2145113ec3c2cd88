import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

from mmdcct.datasets.transforms import PackVideoReIDInputs
from mmdcct.structures.video_reid_data_sample import VideoReIDDataSample


def _results(t=8, h=256, w=128):
    imgs = [np.full((h, w, 3), i, np.uint8) for i in range(t)]
    for im in imgs:
        im[..., 1] = 100  # G channel marker
    return dict(
        imgs=imgs,
        sample_idx=7,
        pid=42,
        raw_pid=1234,
        camid=2,
        img_paths=['a.jpg', 'b.jpg'],
        is_query=True,
        is_gallery=True,
        num_clips=1,
        tracklet_id=99,
        num_frames=2,
        frame_inds=np.zeros(t, np.int64))


def test_pack_types_shapes_metainfo():
    out = PackVideoReIDInputs()(_results())
    assert set(out) == {'inputs', 'data_samples'}
    x = out['inputs']
    assert isinstance(x, torch.Tensor)
    assert x.dtype == torch.uint8 and x.shape == (8, 3, 256, 128)
    assert x.is_contiguous()
    assert x[:, 0, 0, 0].tolist() == list(range(8))  # frame order, R first
    assert torch.all(x[:, 1] == 100)
    ds = out['data_samples']
    assert isinstance(ds, VideoReIDDataSample)
    assert ds.gt_label.tolist() == [42] and ds.gt_label.dtype == torch.long
    meta = ds.metainfo
    assert meta == dict(
        sample_idx=7,
        pid=42,
        raw_pid=1234,
        camid=2,
        img_paths=['a.jpg', 'b.jpg'],
        is_query=True,
        is_gallery=True,
        num_clips=1,
        tracklet_id=99)
    assert 'frame_inds' not in meta and 'num_frames' not in meta


def test_pack_missing_meta_keys_skipped_and_custom_keys():
    res = _results(t=4, h=8, w=4)
    for k in ('raw_pid', 'tracklet_id', 'is_query'):
        res.pop(k)
    out = PackVideoReIDInputs()(res)
    assert out['inputs'].shape == (4, 3, 8, 4)
    meta = out['data_samples'].metainfo
    assert 'raw_pid' not in meta and 'tracklet_id' not in meta
    assert meta['camid'] == 2
    out = PackVideoReIDInputs(meta_keys=('camid', 'num_frames'))(_results())
    assert out['data_samples'].metainfo == dict(camid=2, num_frames=2)


def test_pack_rejects_mixed_shapes():
    res = _results(t=2)
    res['imgs'][1] = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(ValueError, match='share one shape'):
        PackVideoReIDInputs()(res)


def _mars_like_tracklet(tmp_path, n):
    paths = []
    rng = np.random.RandomState(0)
    for i in range(n):
        img = rng.randint(0, 255, (256, 128, 3)).astype(np.uint8)
        p = str(tmp_path / f'0001C1T0001F{i + 1:03d}.jpg')
        cv2.imwrite(p, img)
        paths.append(p)
    return dict(
        img_paths=paths,
        pid=0,
        raw_pid=1,
        camid=0,
        is_query=False,
        is_gallery=False,
        num_frames=n,
        tracklet_id=1,
        sample_idx=0)


def _train_pipeline():
    return [
        dict(type='RestrictedRandomSampling', num_frames=8, mode='random'),
        dict(type='LoadTrackletFrames'),
        dict(
            type='TrackletBroadcaster',
            transforms=[
                dict(
                    type='mmcv.Resize',
                    scale=(128, 256),
                    keep_ratio=False,
                    interpolation='bicubic'),
                dict(
                    type='mmpretrain.RandomCrop',
                    crop_size=(256, 128),
                    padding=10),
                dict(type='mmcv.RandomFlip', prob=0.5, direction='horizontal'),
                dict(
                    type='mmpretrain.RandomErasing',
                    erase_prob=0.5,
                    min_area_ratio=0.02,
                    max_area_ratio=0.4,
                    aspect_range=(0.3, 3.3),
                    mode='const',
                    fill_color=(124, 116, 104)),
            ]),
        dict(type='PackVideoReIDInputs'),
    ]


def _test_pipeline():
    return [
        dict(type='RestrictedRandomSampling', num_frames=8, mode='begin'),
        dict(type='LoadTrackletFrames'),
        dict(
            type='TrackletBroadcaster',
            transforms=[
                dict(
                    type='mmcv.Resize',
                    scale=(128, 256),
                    keep_ratio=False,
                    interpolation='bicubic'),
            ]),
        dict(type='PackVideoReIDInputs'),
    ]


@pytest.mark.parametrize('n', [3, 23])
def test_full_pipelines_with_default_scope(tmp_path, n):
    from mmengine.registry import DefaultScope
    info = _mars_like_tracklet(tmp_path, n)
    with DefaultScope.overwrite_default_scope('mmdcct'):
        train = Compose(_train_pipeline())
        test = Compose(_test_pipeline())
    np.random.seed(0)
    out = train(dict(info))
    assert out['inputs'].shape == (8, 3, 256, 128)
    assert out['inputs'].dtype == torch.uint8
    assert out['data_samples'].gt_label.tolist() == [0]
    a = test(dict(info))
    b = test(dict(info))
    assert torch.equal(a['inputs'], b['inputs'])
    assert a['data_samples'].metainfo['num_clips'] == 1

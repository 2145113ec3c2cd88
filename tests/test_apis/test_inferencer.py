"""VideoReIDInferencer: the three tracklet forms, batching, feature modes,
progress output, errors; on a tiny trained DCCT checkpoint."""
import os
import os.path as osp

import mmcv
import numpy as np
import pytest
from mmengine.infer import BaseInferencer
from mmengine.registry import DefaultScope

from mmdcct.apis import (LoadTrackletFromArray, VideoReIDInferencer,
                         find_tracklet_dirs, list_tracklet_frames)

CNN, VIT, VIDEO = 128, 32, 32  # tiny DCCT widths (see _tiny_dcct.py)


@pytest.fixture(scope='module')
def inferencer(tiny_dcct):
    return VideoReIDInferencer(
        tiny_dcct['config'], tiny_dcct['checkpoint'], device='cpu')


def read_rgb(paths):
    return np.stack([mmcv.imread(p, channel_order='rgb') for p in paths])


def test_is_an_mmengine_inferencer_with_the_test_pipeline(inferencer):
    assert isinstance(inferencer, BaseInferencer)
    assert inferencer.feature == 'all'
    assert not inferencer.model.training
    names = [type(t).__name__ for t in inferencer.pipeline.transforms]
    assert names == [
        'RestrictedRandomSampling', 'LoadTrackletFrames',
        'TrackletBroadcaster', 'PackVideoReIDInputs'
    ]
    array_names = [
        type(t).__name__ for t in inferencer.array_pipeline.transforms
    ]
    assert array_names[1] == 'LoadTrackletFromArray'
    assert isinstance(inferencer.array_pipeline.transforms[1],
                      LoadTrackletFromArray)


def test_folder_frame_list_and_array_give_the_same_feature(
        inferencer, tracklet_folders):
    folder = tracklet_folders['gallery'][0]
    frames = list_tracklet_frames(folder)
    by_folder = inferencer(folder, progress=False)
    by_list = inferencer(frames, progress=False)
    by_array = inferencer(read_rgb(frames), progress=False)
    assert by_folder.shape == (1, 2 * (CNN + VIT) + VIDEO)
    assert by_folder.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(by_folder, axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(by_list, by_folder, atol=1e-5)
    np.testing.assert_allclose(by_array, by_folder, atol=1e-5)


def test_frame_order_follows_frame_numbers(tmp_path):
    for name in ('x_F10.jpg', 'x_F9.jpg', 'x_F1.jpg', 'notes.txt'):
        (tmp_path / name).write_bytes(b'')
    assert [osp.basename(p) for p in list_tracklet_frames(tmp_path)
            ] == ['x_F1.jpg', 'x_F9.jpg', 'x_F10.jpg']


def test_batches_match_single_tracklets_in_order(inferencer, tracklet_folders):
    folders = tracklet_folders['gallery'][:5]
    arr = read_rgb(list_tracklet_frames(folders[0]))
    batched = inferencer(folders + [arr], batch_size=2, progress=False)
    assert batched.shape == (6, 2 * (CNN + VIT) + VIDEO)
    singles = np.concatenate(
        [inferencer(f, progress=False) for f in folders[1:3]])
    np.testing.assert_allclose(batched[1:3], singles, atol=1e-5)
    np.testing.assert_allclose(batched[5], batched[0], atol=1e-5)
    # a (N, T, H, W, 3) array is N tracklets; extract() takes a list of
    # frame lists, one tracklet each
    stacked = inferencer(np.stack([arr[:3], arr[:3]]), progress=False)
    assert stacked.shape[0] == 2
    lists = inferencer.extract([list_tracklet_frames(f) for f in folders[:2]],
                               progress=False)
    np.testing.assert_allclose(lists, batched[:2], atol=1e-5)


def test_datasamples_are_returned_on_request(inferencer, tracklet_folders):
    samples = inferencer(
        tracklet_folders['gallery'][:2],
        return_datasamples=True,
        progress=False)
    assert len(samples) == 2
    assert samples[0].pred_feature.shape == (2 * (CNN + VIT) + VIDEO, )
    assert samples[0].img_paths == list_tracklet_frames(
        tracklet_folders['gallery'][0])


@pytest.mark.parametrize('feature, width', [('base', CNN + VIT),
                                            ('spatial', CNN + VIT),
                                            ('final', VIDEO),
                                            ('all', 2 * (CNN + VIT) + VIDEO)])
def test_feature_modes(inferencer, tracklet_folders, feature, width):
    old = inferencer.feature
    try:
        inferencer.feature = feature
        feats = inferencer(tracklet_folders['gallery'][:2], progress=False)
    finally:
        inferencer.feature = old
    assert feats.shape == (2, width)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1, rtol=1e-5)


def test_feature_argument_and_foreign_default_scope(tiny_dcct,
                                                    tracklet_folders):
    # built from mmdcct's registries even under another default scope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        inf = VideoReIDInferencer(
            tiny_dcct['config'],
            tiny_dcct['checkpoint'],
            device='cpu',
            feature='base')
    assert inf.feature == 'base'
    assert inf(
        tracklet_folders['gallery'][0], progress=False).shape == (1, CNN + VIT)
    with pytest.raises(ValueError, match='feature must be one of'):
        VideoReIDInferencer(
            tiny_dcct['config'], tiny_dcct['checkpoint'], feature='bogus')


def test_progress_bar_counts_tracklets(inferencer, tracklet_folders, capsys):
    inferencer(tracklet_folders['gallery'][:3], batch_size=2, progress=True)
    out = capsys.readouterr().out
    assert '3/3' in out and 'task/s' in out
    inferencer(tracklet_folders['gallery'][:3], progress=False)
    assert capsys.readouterr().out == ''


def test_invalid_inputs(inferencer, tmp_path):
    with pytest.raises(FileNotFoundError):
        inferencer(str(tmp_path / 'missing'), progress=False)
    with pytest.raises(FileNotFoundError, match='no image'):
        inferencer(str(tmp_path), progress=False)
    with pytest.raises(TypeError, match='uint8'):
        inferencer(np.zeros((4, 64, 32, 3), np.float32), progress=False)
    with pytest.raises(ValueError, match=r'\(T, H, W, 3\)'):
        inferencer(
            np.zeros((4, 64, 32), np.uint8)[None, ..., None], progress=False)
    with pytest.raises(ValueError, match='No tracklet'):
        inferencer([], progress=False)
    with pytest.raises(ValueError, match='unknown argument'):
        inferencer(np.zeros((4, 64, 32, 3), np.uint8), bogus=1)


def test_find_tracklet_dirs_expands_collections(tracklet_folders):
    root = osp.join(tracklet_folders['root'], 'gallery')
    assert find_tracklet_dirs(root) == tracklet_folders['gallery']
    one = tracklet_folders['gallery'][0]
    assert find_tracklet_dirs([one]) == [one]
    assert os.path.isdir(one)

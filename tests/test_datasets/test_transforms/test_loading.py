import cv2
import numpy as np
import pytest

from mmdcct.datasets.transforms import (LoadTrackletFrames,
                                        LoadTrackletFromArray,
                                        RestrictedRandomSampling)
from mmdcct.registry import TRANSFORMS


def _write_frames(tmp_path, n, h=32, w=16):
    paths = []
    for i in range(n):
        img = np.zeros((h, w, 3), np.uint8)
        img[..., 2] = 10 * i  # red in RGB, stored as BGR by cv2
        img[..., 0] = 200  # blue
        p = str(tmp_path / f'{i:04d}.png')
        cv2.imwrite(p, img)
        paths.append(p)
    return paths


def test_load_selected_frames_rgb(tmp_path):
    paths = _write_frames(tmp_path, 5)
    t = LoadTrackletFrames()
    out = t(dict(img_paths=paths, frame_inds=np.array([0, 0, 2, 4])))
    imgs = out['imgs']
    assert len(imgs) == 4
    for im in imgs:
        assert im.shape == (32, 16, 3) and im.dtype == np.uint8
    # RGB order: channel 0 is red
    assert [int(im[0, 0, 0]) for im in imgs] == [0, 0, 20, 40]
    assert all(int(im[0, 0, 2]) == 200 for im in imgs)
    assert out['img_shape'] == (32, 16) and out['ori_shape'] == (32, 16)
    # duplicates are copies, not aliases
    assert imgs[0] is not imgs[1]
    assert not np.shares_memory(imgs[0], imgs[1])


def test_load_decodes_each_path_once(tmp_path, monkeypatch):
    paths = _write_frames(tmp_path, 3)
    t = LoadTrackletFrames()
    calls = []
    orig = t._read
    monkeypatch.setattr(t, '_read', lambda p: calls.append(p) or orig(p))
    t(dict(img_paths=paths, frame_inds=np.array([0, 0, 0, 1, 1, 1, 2, 2])))
    assert calls == paths


def test_load_all_without_frame_inds_bgr(tmp_path):
    paths = _write_frames(tmp_path, 3)
    out = LoadTrackletFrames(channel_order='bgr')(dict(img_paths=paths))
    assert len(out['imgs']) == 3
    assert int(out['imgs'][1][0, 0, 2]) == 10


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_corrupt_file_raises_with_name(tmp_path, backend):
    paths = _write_frames(tmp_path, 2)
    bad = tmp_path / 'corrupt_0001.jpg'
    bad.write_bytes(b'this is not a jpeg')
    t = LoadTrackletFrames(imdecode_backend=backend)
    with pytest.raises(OSError, match='corrupt_0001.jpg'):
        t(dict(img_paths=paths + [str(bad)], frame_inds=np.array([0, 2])))


def test_missing_file_raises_with_name(tmp_path):
    t = LoadTrackletFrames()
    missing = str(tmp_path / 'missing_frame.jpg')
    with pytest.raises(OSError, match='missing_frame.jpg'):
        t(dict(img_paths=[missing], frame_inds=np.array([0])))


def test_out_of_range_inds(tmp_path):
    paths = _write_frames(tmp_path, 2)
    with pytest.raises(IndexError):
        LoadTrackletFrames()(dict(img_paths=paths, frame_inds=np.array([2])))


def test_load_real_jpgs(tmp_path):
    rng = np.random.RandomState(0)
    paths = []
    for i in range(4):
        img = np.full((256, 128, 3), 60 * i, np.uint8)
        img += rng.randint(0, 5, img.shape).astype(np.uint8)
        p = str(tmp_path / f'0001C1T0001F{i + 1:03d}.jpg')
        assert cv2.imwrite(p, img)
        paths.append(p)
    out = LoadTrackletFrames()(
        dict(img_paths=paths, frame_inds=np.array([0, 1, 1, 3])))
    assert [im.shape for im in out['imgs']] == [(256, 128, 3)] * 4
    means = [float(im.mean()) for im in out['imgs']]
    assert means == pytest.approx([2, 62, 62, 182], abs=3)


def _corrupt(path):
    with open(path, 'wb') as f:
        f.write(b'not an image')


def test_skip_corrupt_uses_nearest_readable_frame(tmp_path, mmlogger_messages):
    paths = _write_frames(tmp_path, 5)
    _corrupt(paths[2])
    _corrupt(paths[3])
    t = LoadTrackletFrames(skip_corrupt=True)
    out = t(dict(img_paths=paths, frame_inds=np.array([0, 2, 3, 3, 4])))
    # frame 2 -> frame 1 (earlier on ties), frame 3 -> frame 4
    assert [int(im[0, 0, 0]) for im in out['imgs']] == [0, 10, 40, 40, 40]
    assert out['replaced_frames'] == {paths[2]: paths[1], paths[3]: paths[4]}
    ids = [id(im) for im in out['imgs']]
    assert len(ids) == len(set(ids))  # no aliases
    warnings = [m for m in mmlogger_messages if m.startswith('WARNING')]
    assert len(warnings) == 2  # one per unreadable file
    assert paths[2] in warnings[0] and paths[3] in warnings[1]
    assert 'skipping the unreadable frame' in warnings[0]
    assert 'skip_corrupt=True' in repr(t)


def test_skip_corrupt_missing_file_and_all_unreadable(tmp_path,
                                                      mmlogger_messages):
    paths = _write_frames(tmp_path, 2)
    missing = str(tmp_path / 'gone_0002.png')
    t = LoadTrackletFrames(skip_corrupt=True)
    out = t(dict(img_paths=paths + [missing], frame_inds=np.array([2])))
    assert int(out['imgs'][0][0, 0, 0]) == 10
    assert any('gone_0002.png' in m for m in mmlogger_messages)
    for p in paths:
        _corrupt(p)
    with pytest.raises(OSError, match='No readable frame') as exc:
        t(dict(img_paths=paths + [missing], frame_inds=np.array([0])))
    assert paths[0] in str(exc.value)
    # without skip_corrupt the first unreadable file is named
    with pytest.raises(OSError, match='0000.png'):
        LoadTrackletFrames()(dict(img_paths=paths))


def test_load_from_array_selects_copies_of_the_sampled_frames():
    frames = np.arange(5 * 4 * 2 * 3, dtype=np.uint8).reshape(5, 4, 2, 3)
    t = TRANSFORMS.build(dict(type='LoadTrackletFromArray'))
    assert isinstance(t, LoadTrackletFromArray)
    out = t(dict(frames=frames, frame_inds=np.array([4, 0, 0])))
    assert 'frames' not in out
    assert [img.tolist() for img in out['imgs']] == [
        frames[4].tolist(), frames[0].tolist(), frames[0].tolist()
    ]
    assert out['img_shape'] == out['ori_shape'] == (4, 2)
    out['imgs'][1][:] = 0  # repeated frames are independent copies
    assert out['imgs'][2].tolist() == frames[0].tolist()
    assert frames[0].any()
    # without frame_inds every frame, in order
    out = t(dict(frames=frames))
    assert len(out['imgs']) == 5 and out['imgs'][3].tolist() == \
        frames[3].tolist()


def test_load_from_array_after_sampling_matches_the_file_loader(tmp_path):
    paths = _write_frames(tmp_path, 9)
    frames = np.stack([cv2.imread(p)[..., ::-1] for p in paths])
    sampling = RestrictedRandomSampling(num_frames=4, mode='begin')
    from_files = LoadTrackletFrames()(sampling(dict(img_paths=paths)))
    from_array = LoadTrackletFromArray()(
        sampling(dict(img_paths=[f'<array>/{i}' for i in range(9)],
                      frames=frames)))
    for a, b in zip(from_files['imgs'], from_array['imgs']):
        np.testing.assert_array_equal(a, b)


def test_load_from_array_rejects_out_of_range_inds():
    frames = np.zeros((3, 4, 2, 3), dtype=np.uint8)
    with pytest.raises(IndexError, match='3 frames'):
        LoadTrackletFromArray()(dict(frames=frames, frame_inds=[0, 3]))
    with pytest.raises(IndexError, match='out of range'):
        LoadTrackletFromArray()(dict(frames=frames, frame_inds=[-1]))

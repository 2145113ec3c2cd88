"""Decoders (``imdecode_backend``) and the reduced-size JPEG decode
(``decode_size``) of :class:`LoadTrackletFrames`."""
import io
import os
import pickle
import sys
import tempfile
import types
import warnings

import cv2
import mmcv
import numpy as np
import pytest
from PIL import Image

from mmdcct.datasets.transforms import LoadTrackletFrames, loading

#: Max abs pixel difference allowed between the cv2 and the pillow decode of
#: the same JPEG. Both use libjpeg-turbo with the same (default) IDCT and
#: upsampling: measured 0 with opencv-python-headless 5.0 / Pillow 13; the
#: margin covers other bundled libjpeg-turbo builds.
JPEG_BACKEND_ATOL = 2

#: Mean abs difference allowed between (1/2 DCT-scaled decode) and (full
#: decode + bicubic resize to the same size) of a smooth synthetic frame
#: (pixel std ~28). Measured ~2.1 (max ~16); an unrelated frame is ~30 away.
REDUCED_MEAN_ATOL = 3.0


def _smooth_frame(h, w, seed=0):
    """A smooth RGB test frame (blurred noise) with a pure-red top-left
    block, so that the channel order is checkable."""
    rng = np.random.RandomState(seed)
    img = (rng.rand(h, w, 3) * 255).astype(np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 2 * max(1, h // 256))
    img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX)
    img[:h // 4, :w // 4] = (255, 0, 0)  # RGB red
    return img


def _write(path, rgb, **params):
    """Write an RGB array with PIL (JPEG quality 90 unless given)."""
    fmt = 'JPEG' if str(path).endswith('.jpg') else 'PNG'
    if fmt == 'JPEG':
        params.setdefault('quality', 90)
    Image.fromarray(rgb).save(str(path), fmt, **params)
    return str(path)


def _load(path, **kwargs):
    out = LoadTrackletFrames(**kwargs)(dict(img_paths=[path]))
    return out['imgs'][0], out


# ------------------------------------------------------ fake TurboJPEG ---
#: ``(num, denom)`` scaling factors of libjpeg-turbo (``TurboJPEG().
#: scaling_factors``); PyTurboJPEG rejects any other with a ValueError.
TJ_SCALING_FACTORS = frozenset({(2, 1), (15, 8), (7, 4), (13, 8), (3, 2),
                                (11, 8), (5, 4), (9, 8), (1, 1),
                                (7, 8), (3, 4), (5, 8), (1, 2), (3, 8), (1, 4),
                                (1, 8)})

#: The reductions the fake can emulate with OpenCV's libjpeg DCT scaling.
_FAKE_CV2_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def _cv2_imdecode_with_libjpeg_messages(data, flags):
    """``cv2.imdecode`` plus the warnings its bundled libjpeg prints.

    libjpeg's default ``output_message`` writes its (non-fatal) warnings,
    e.g. ``Corrupt JPEG data: ...``, to fd 2; they are collected here.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as f:
        os.dup2(f.fileno(), 2)
        try:
            img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read().decode('utf-8', 'replace')
    return img, [line.strip() for line in text.splitlines() if line.strip()]


def _make_fake_turbojpeg():
    """A ``turbojpeg`` module implementing, with OpenCV, the part of the
    PyTurboJPEG API that ``loading.py`` uses, and recording the calls.

    Like the real library: ``TurboJPEG()`` is the handle; ``decode`` returns
    an ``H x W x 3`` ``uint8`` array in ``pixel_format`` (default BGR),
    decoded at ``scaling_factor`` (``ceil(W * num / denom)``), *ignoring* the
    EXIF orientation; a buffer whose header cannot be read raises
    ``OSError``; libjpeg warnings (truncated file: ``Premature end of JPEG
    file``, damaged entropy-coded data: ``Corrupt JPEG data: ...``) are only
    ``warnings.warn``-ed (``UserWarning``) and an image (grey where data is
    missing) is still returned. ``fake.instances`` lists the handles made,
    ``fake.calls`` one dict per ``decode``.
    """
    fake = types.ModuleType('turbojpeg')
    # PyTurboJPEG's values
    fake.TJPF_RGB, fake.TJPF_BGR, fake.TJPF_GRAY = 0, 1, 6
    fake.TJFLAG_FASTUPSAMPLE, fake.TJFLAG_FASTDCT = 256, 2048
    fake.TJFLAG_ACCURATEDCT = 4096
    fake.instances = []
    fake.calls = []

    class TurboJPEG:

        def __init__(self, lib_path=None):
            self.lib_path = lib_path
            fake.instances.append(self)

        @property
        def scaling_factors(self):
            return TJ_SCALING_FACTORS

        def decode(self,
                   jpeg_buf,
                   pixel_format=fake.TJPF_BGR,
                   scaling_factor=None,
                   flags=0):
            data = bytes(jpeg_buf)
            call = dict(
                handle=self,
                nbytes=len(data),
                pixel_format=pixel_format,
                scaling_factor=scaling_factor,
                flags=flags,
                warnings=[])
            fake.calls.append(call)
            if (scaling_factor is not None
                    and scaling_factor not in TJ_SCALING_FACTORS):
                raise ValueError('supported scaling factors are ' +
                                 str(TJ_SCALING_FACTORS))
            num, denom = scaling_factor or (1, 1)
            if num != 1 or denom not in _FAKE_CV2_FLAGS:
                raise NotImplementedError(
                    f'fake turbojpeg: scaling_factor {scaling_factor}')
            if pixel_format not in (fake.TJPF_RGB, fake.TJPF_BGR):
                raise NotImplementedError(
                    f'fake turbojpeg: pixel_format {pixel_format}')
            if flags != 0:
                raise NotImplementedError(f'fake turbojpeg: flags {flags}')
            # tjDecompressHeader3: a fatal error
            try:
                with Image.open(io.BytesIO(data), formats=('JPEG', )) as im:
                    width, height = im.size
            except Exception as e:
                raise OSError(f'fake turbojpeg: bad JPEG header: {e}') from e
            img, messages = _cv2_imdecode_with_libjpeg_messages(
                data, _FAKE_CV2_FLAGS[denom] | cv2.IMREAD_IGNORE_ORIENTATION)
            truncated = not data.endswith(b'\xff\xd9')
            if truncated and 'Premature end of JPEG file' not in messages:
                messages.insert(0, 'Premature end of JPEG file')
            if img is None:
                if not truncated:
                    raise OSError('fake turbojpeg: cannot decode the data')
                # libjpeg fills the rows it could not decode
                img = np.full((-(-height // denom), -(-width // denom), 3),
                              128, np.uint8)
            for msg in messages:
                call['warnings'].append(msg)
                warnings.warn(msg)  # PyTurboJPEG: TJERR_WARNING
            if pixel_format == fake.TJPF_RGB:
                img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            return img

    fake.TurboJPEG = TurboJPEG
    return fake


def _real_turbojpeg_available():
    """Whether PyTurboJPEG and libjpeg-turbo (optional extra) work here."""
    try:
        import turbojpeg
        turbojpeg.TurboJPEG()
    except Exception:
        return False
    return True


#: ``'turbojpeg'`` is always tested against the fake; also against the real
#: library where that optional extra is installed (no skipped test items).
TURBOJPEG_IMPLS = ['fake'] + (['real'] if _real_turbojpeg_available() else [])


@pytest.fixture(params=TURBOJPEG_IMPLS)
def turbojpeg_impl(request, monkeypatch):
    """``imdecode_backend='turbojpeg'`` backed by the fake module (returned,
    with its recorded calls) or by the real library (returns None)."""
    monkeypatch.setattr(loading, '_turbojpeg', None)
    if request.param == 'real':
        return None
    fake = _make_fake_turbojpeg()
    monkeypatch.setitem(sys.modules, 'turbojpeg', fake)
    return fake


def _scaling_factors(fake):
    return [c['scaling_factor'] for c in fake.calls]


# ---------------------------------------------------------- full decode ---
@pytest.mark.parametrize('channel_order', ['rgb', 'bgr'])
def test_cv2_vs_pillow_jpeg(tmp_path, channel_order):
    rgb = _smooth_frame(256, 128)
    path = _write(tmp_path / 'f.jpg', rgb)
    a, out_a = _load(path, channel_order=channel_order)
    b, out_b = _load(
        path, channel_order=channel_order, imdecode_backend='pillow')
    assert a.shape == b.shape == (256, 128, 3)
    assert a.dtype == b.dtype == np.uint8
    assert out_a['img_shape'] == out_b['img_shape'] == (256, 128)
    assert out_a['ori_shape'] == out_b['ori_shape'] == (256, 128)
    assert np.abs(a.astype(int) - b).max() <= JPEG_BACKEND_ATOL
    # channel order: the red block is in channel 0 (rgb) or 2 (bgr)
    red = 0 if channel_order == 'rgb' else 2
    for img in (a, b):
        block = img[8:56, 8:24].reshape(-1, 3).mean(0)
        assert block[red] > 240 and block[2 - red] < 15 and block[1] < 15
        assert img.flags.writeable and img.flags.c_contiguous


def test_cv2_vs_pillow_png_exact(tmp_path):
    rgb = _smooth_frame(64, 32)
    path = _write(tmp_path / 'f.png', rgb)
    a, _ = _load(path)
    b, _ = _load(path, imdecode_backend='pillow')
    np.testing.assert_array_equal(a, rgb)
    np.testing.assert_array_equal(b, rgb)


def test_cv2_vs_pillow_grayscale_jpeg(tmp_path):
    gray = _smooth_frame(64, 32)[..., 1]
    path = tmp_path / 'g.jpg'
    Image.fromarray(gray).save(str(path), 'JPEG', quality=90)
    a, _ = _load(str(path))
    b, _ = _load(str(path), imdecode_backend='pillow')
    assert a.shape == b.shape == (64, 32, 3)
    assert np.abs(a.astype(int) - b).max() <= JPEG_BACKEND_ATOL


@pytest.mark.parametrize('reduced', [False, True])
@pytest.mark.parametrize('orientation', range(1, 9))
def test_exif_orientation_same_for_cv2_and_pillow(tmp_path, orientation,
                                                  reduced):
    # stored 64x32 (H x W); orientations 5..8 display it as 32x64
    rgb = _smooth_frame(64, 32)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = _write(tmp_path / 'o.jpg', rgb, exif=exif.tobytes())
    shown = (64, 32) if orientation < 5 else (32, 64)
    # decode_size is (w, h) of the displayed (oriented) frame
    decode_size = (shown[1] // 2, shown[0] // 2) if reduced else None
    a, _ = _load(path, decode_size=decode_size)
    b, _ = _load(path, imdecode_backend='pillow', decode_size=decode_size)
    scale = 2 if reduced else 1
    assert a.shape[:2] == b.shape[:2] == (shown[0] // scale, shown[1] // scale)
    assert np.abs(a.astype(int) - b).max() <= JPEG_BACKEND_ATOL
    if reduced and orientation >= 5:
        # the stored (unrotated) size would allow 1/2, the displayed not
        for backend in ('cv2', 'pillow'):
            img, _ = _load(
                path, imdecode_backend=backend, decode_size=(16, 32))
            assert img.shape[:2] == shown


# ------------------------------------------------------- reduced decode ---
@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_reduced_decode_half_and_close_to_full_resize(tmp_path, backend):
    rgb = _smooth_frame(512, 256)
    path = _write(tmp_path / 'big.jpg', rgb)
    red, out = _load(path, imdecode_backend=backend, decode_size=(128, 256))
    assert red.shape == (256, 128, 3) and red.dtype == np.uint8
    assert out['img_shape'] == out['ori_shape'] == (256, 128)
    full, _ = _load(path, imdecode_backend=backend)
    assert full.shape == (512, 256, 3)
    # what the pipeline's Resize makes of each (no-op for the reduced one)
    full_resized = mmcv.imresize(full, (128, 256), interpolation='bicubic')
    red_resized = mmcv.imresize(red, (128, 256), interpolation='bicubic')
    diff = np.abs(full_resized.astype(float) - red_resized)
    assert diff.mean() <= REDUCED_MEAN_ATOL
    # sanity: a different frame is far away
    other = _smooth_frame(256, 128, seed=1)
    assert np.abs(other.astype(float) - red_resized).mean() > 10


def test_reduced_decode_cv2_equals_pillow(tmp_path):
    path = _write(tmp_path / 'big.jpg', _smooth_frame(512, 256))
    a, _ = _load(path, decode_size=(128, 256))
    b, _ = _load(path, imdecode_backend='pillow', decode_size=(128, 256))
    assert np.abs(a.astype(int) - b).max() <= JPEG_BACKEND_ATOL


#: ``(H, W)`` of the JPEG, ``decode_size``, expected ``(H, W)`` and reduction.
REDUCTION_CASES = [
    ((512, 256), (128, 256), (256, 128), 2),
    ((1024, 512), (128, 256), (256, 128), 4),
    ((2048, 1024), (128, 256), (256, 128), 8),
    ((4096, 2048), (128, 256), (512, 256), 8),  # at most 1/8
    ((512, 256), (100, 200), (256, 128), 2),  # 1/4 would be < w x h
    ((501, 251), (125, 250), (251, 126), 2),  # ceil(251 / 2) = 126
    ((500, 256), (128, 256), (500, 256), 1),  # H < 2h: full size
    ((256, 128), (128, 256), (256, 128), 1),  # already model size
    ((128, 64), (128, 256), (128, 64), 1),  # smaller than model size
]


@pytest.mark.parametrize('hw, decode_size, expected, scale', REDUCTION_CASES)
@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_reduced_decode_picks_largest_reduction(tmp_path, backend, hw,
                                                decode_size, expected, scale):
    rng = np.random.RandomState(0)
    rgb = rng.randint(0, 255, (*hw, 3)).astype(np.uint8)
    path = _write(tmp_path / 'f.jpg', rgb)
    img, _ = _load(path, imdecode_backend=backend, decode_size=decode_size)
    assert img.shape == (*expected, 3)


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_reduced_decode_small_frame_is_full_decode(tmp_path, backend):
    path = _write(tmp_path / 'small.jpg', _smooth_frame(256, 128))
    a, _ = _load(path, imdecode_backend=backend, decode_size=(128, 256))
    b, _ = _load(path, imdecode_backend=backend)
    assert a.shape == (256, 128, 3)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_reduced_decode_png_is_full_decode(tmp_path, backend):
    rgb = _smooth_frame(512, 256)
    path = _write(tmp_path / 'big.png', rgb)
    img, out = _load(path, imdecode_backend=backend, decode_size=(128, 256))
    assert out['img_shape'] == (512, 256)
    np.testing.assert_array_equal(img, rgb)


# ------------------------------------------------------------ arguments ---
@pytest.mark.parametrize('name', ['tifffile', 'opencv', 'PIL', None])
def test_bad_backend_name(name):
    with pytest.raises(ValueError, match='imdecode_backend') as exc:
        LoadTrackletFrames(imdecode_backend=name)
    assert "'cv2', 'pillow', 'turbojpeg'" in str(exc.value)


@pytest.mark.parametrize(
    'size', [128, (128, ), (128, 0), (128.0, 256), '12', (True, 2)])
def test_bad_decode_size(size):
    with pytest.raises(ValueError, match='decode_size'):
        LoadTrackletFrames(decode_size=size)


def test_decode_size_list_and_repr():
    t = LoadTrackletFrames(
        imdecode_backend='pillow', decode_size=[128, np.int64(256)])
    assert t.decode_size == (128, 256)
    r = repr(t)
    assert "imdecode_backend='pillow'" in r
    assert 'decode_size=(128, 256)' in r
    assert 'decode_size=None' in repr(LoadTrackletFrames())
    # picklable (dataloader workers)
    t2 = pickle.loads(pickle.dumps(t))
    assert t2.decode_size == (128, 256)


def test_turbojpeg_not_importable(monkeypatch):
    monkeypatch.setattr(loading, '_turbojpeg', None)
    monkeypatch.setitem(sys.modules, 'turbojpeg', None)  # import fails
    with pytest.raises(ImportError) as exc:
        LoadTrackletFrames(imdecode_backend='turbojpeg')
    msg = str(exc.value)
    assert "imdecode_backend='turbojpeg'" in msg
    assert 'pip install PyTurboJPEG' in msg


def test_turbojpeg_library_missing(monkeypatch):

    def no_lib():
        raise RuntimeError('Unable to locate turbojpeg library')

    fake = types.ModuleType('turbojpeg')
    fake.TurboJPEG = no_lib
    monkeypatch.setattr(loading, '_turbojpeg', None)
    monkeypatch.setitem(sys.modules, 'turbojpeg', fake)
    with pytest.raises(ImportError, match='libjpeg-turbo') as exc:
        LoadTrackletFrames(imdecode_backend='turbojpeg')
    assert 'Unable to locate turbojpeg library' in str(exc.value)
    assert "imdecode_backend='turbojpeg'" in str(exc.value)


def test_turbojpeg_matches_cv2(tmp_path, turbojpeg_impl):
    fake = turbojpeg_impl
    path = _write(tmp_path / 'big.jpg', _smooth_frame(512, 256))
    for decode_size, shape in ((None, (512, 256)), ((128, 256), (256, 128))):
        a, _ = _load(path, decode_size=decode_size)
        b, out = _load(
            path, imdecode_backend='turbojpeg', decode_size=decode_size)
        assert b.shape == (*shape, 3) and b.dtype == np.uint8
        assert out['img_shape'] == out['ori_shape'] == shape
        assert np.abs(a.astype(int) - b).max() <= JPEG_BACKEND_ATOL
        assert b.flags.writeable and b.flags.c_contiguous
    bgr, _ = _load(path, imdecode_backend='turbojpeg', channel_order='bgr')
    rgb, _ = _load(path, imdecode_backend='turbojpeg')
    np.testing.assert_array_equal(bgr, rgb[..., ::-1])
    # the red block is in channel 0 of the rgb frame
    block = rgb[8:120, 8:56].reshape(-1, 3).mean(0)
    assert block[0] > 240 and block[1] < 15 and block[2] < 15
    if fake is not None:
        tj = sys.modules['turbojpeg']
        assert tj is fake
        # one handle per process; full decode, then 1/2 for (128, 256)
        assert len(fake.instances) == 1
        assert all(c['handle'] is fake.instances[0] for c in fake.calls)
        assert _scaling_factors(fake) == [None, (1, 2), None, None]
        assert [c['pixel_format'] for c in fake.calls
                ] == [tj.TJPF_RGB, tj.TJPF_RGB, tj.TJPF_BGR, tj.TJPF_RGB]
        assert all(c['flags'] == 0 and c['nbytes'] == os.path.getsize(path)
                   and c['warnings'] == [] for c in fake.calls)


def test_turbojpeg_grayscale_jpeg(tmp_path, turbojpeg_impl):
    gray = _smooth_frame(64, 32)[..., 1]
    path = tmp_path / 'g.jpg'
    Image.fromarray(gray).save(str(path), 'JPEG', quality=90)
    a, _ = _load(str(path))
    b, _ = _load(str(path), imdecode_backend='turbojpeg')
    assert a.shape == b.shape == (64, 32, 3)
    assert np.abs(a.astype(int) - b).max() <= JPEG_BACKEND_ATOL
    if turbojpeg_impl is not None:
        assert len(turbojpeg_impl.calls) == 1


@pytest.mark.parametrize('reduced', [False, True])
@pytest.mark.parametrize('orientation', range(1, 9))
def test_turbojpeg_exif_orientation(tmp_path, turbojpeg_impl, orientation,
                                    reduced):
    # TurboJPEG ignores the EXIF tag: the loader applies it
    fake = turbojpeg_impl
    rgb = _smooth_frame(64, 32)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = _write(tmp_path / 'o.jpg', rgb, exif=exif.tobytes())
    shown = (64, 32) if orientation < 5 else (32, 64)
    decode_size = (shown[1] // 2, shown[0] // 2) if reduced else None
    scale = 2 if reduced else 1
    a, _ = _load(path, decode_size=decode_size)
    b, _ = _load(path, imdecode_backend='turbojpeg', decode_size=decode_size)
    assert b.shape == (shown[0] // scale, shown[1] // scale, 3)
    assert np.abs(a.astype(int) - b).max() <= JPEG_BACKEND_ATOL
    assert b.flags.c_contiguous
    if fake is not None:
        assert _scaling_factors(fake) == [(1, 2) if reduced else None]
    if reduced and orientation >= 5:
        # the stored (unrotated) size would allow 1/2, the displayed not
        img, _ = _load(
            path, imdecode_backend='turbojpeg', decode_size=(16, 32))
        assert img.shape[:2] == shown
        if fake is not None:
            assert _scaling_factors(fake)[-1] is None


@pytest.mark.parametrize('hw, decode_size, expected, scale', REDUCTION_CASES)
def test_turbojpeg_reduced_decode_picks_largest_reduction(
        tmp_path, turbojpeg_impl, hw, decode_size, expected, scale):
    rng = np.random.RandomState(0)
    rgb = rng.randint(0, 255, (*hw, 3)).astype(np.uint8)
    path = _write(tmp_path / 'f.jpg', rgb)
    img, _ = _load(path, imdecode_backend='turbojpeg', decode_size=decode_size)
    assert img.shape == (*expected, 3)
    ref, _ = _load(path, decode_size=decode_size)
    assert np.abs(ref.astype(int) - img).max() <= JPEG_BACKEND_ATOL
    if turbojpeg_impl is not None:
        assert _scaling_factors(turbojpeg_impl) == [
            None if scale == 1 else (1, scale)
        ]


@pytest.mark.parametrize('decode_size', [None, (16, 32)])
def test_turbojpeg_png_falls_back_to_cv2(tmp_path, turbojpeg_impl,
                                         decode_size):
    rgb = _smooth_frame(64, 32)
    png = _write(tmp_path / 'f.png', rgb)
    for channel_order in ('rgb', 'bgr'):
        img, _ = _load(
            png,
            imdecode_backend='turbojpeg',
            channel_order=channel_order,
            decode_size=decode_size)
        np.testing.assert_array_equal(
            img, rgb if channel_order == 'rgb' else rgb[..., ::-1])
    if turbojpeg_impl is not None:
        assert turbojpeg_impl.calls == []  # never handed to TurboJPEG


def test_turbojpeg_pickle(tmp_path, turbojpeg_impl):
    path = _write(tmp_path / 'f.jpg', _smooth_frame(64, 32))
    t = LoadTrackletFrames(imdecode_backend='turbojpeg', decode_size=(8, 16))
    t2 = pickle.loads(pickle.dumps(t))  # dataloader workers
    assert t2.imdecode_backend == 'turbojpeg'
    assert t2.decode_size == (8, 16)
    assert "imdecode_backend='turbojpeg'" in repr(t2)
    a = t(dict(img_paths=[path]))['imgs'][0]
    b = t2(dict(img_paths=[path]))['imgs'][0]
    assert b.shape == (16, 8, 3)
    np.testing.assert_array_equal(a, b)
    if turbojpeg_impl is not None:
        # the handle is per process, not pickled with the transform
        assert len(turbojpeg_impl.instances) == 1
        assert _scaling_factors(turbojpeg_impl) == [(1, 4), (1, 4)]


def test_turbojpeg_rejects_damaged_entropy_data(tmp_path, turbojpeg_impl):
    # a JPEG damaged in the middle of its entropy-coded data: libjpeg only
    # warns; cv2 decodes it, turbojpeg turns the warning into an error
    data = bytearray(_jpeg_bytes())
    sos = data.index(b'\xff\xda')
    mid = sos + (len(data) - sos) // 2
    data[mid:mid + 4] = b'\xff\xd0\x00\x00'  # a stray RST0 marker
    path = tmp_path / 'damaged.jpg'
    path.write_bytes(bytes(data))
    img, _ = _load(str(path))
    assert img.shape == (256, 128, 3)
    with pytest.raises(OSError, match='damaged.jpg') as exc:
        _load(str(path), imdecode_backend='turbojpeg')
    assert 'libjpeg-turbo: Corrupt JPEG data' in str(exc.value)
    if turbojpeg_impl is not None:
        assert len(turbojpeg_impl.calls) == 1
        assert turbojpeg_impl.calls[0]['warnings']


# --------------------------------------------------------- corrupt frames ---
def _jpeg_bytes():
    buf = io.BytesIO()
    Image.fromarray(_smooth_frame(256, 128)).save(buf, 'JPEG', quality=90)
    return buf.getvalue()


#: Unreadable files; every backend must reject each of them.
CORRUPTIONS = {
    'garbage': lambda: b'this is not an image',
    'empty': lambda: b'',
    'truncated_half': lambda: _jpeg_bytes()[:len(_jpeg_bytes()) // 2],
    'truncated_no_eoi': lambda: _jpeg_bytes()[:-2],
    'header_only': lambda: _jpeg_bytes()[:300],
    'missing': None,
}

#: Every decoder; 'turbojpeg' via ``turbojpeg_impl`` (always the fake).
BACKENDS = ['cv2', 'pillow', 'turbojpeg']

#: Corruptions that reach TurboJPEG (the header parses) and that only its
#: libjpeg warning, turned into an error by the loader, rejects.
TURBOJPEG_WARNED = {'truncated_half', 'truncated_no_eoi'}


def _tracklet_with_bad_frame(tmp_path, kind):
    """4 JPEG frames, frame 1 unreadable in the way ``kind`` says."""
    paths = []
    for i in range(4):
        rgb = np.full((64, 32, 3), 40 * i + 20, np.uint8)
        paths.append(_write(tmp_path / f'{i:04d}.jpg', rgb))
    bad = tmp_path / f'bad_{kind}_0001.jpg'
    if CORRUPTIONS[kind] is not None:
        bad.write_bytes(CORRUPTIONS[kind]())
    paths[1] = str(bad)
    return paths


@pytest.mark.parametrize('decode_size', [None, (16, 32)])
@pytest.mark.parametrize('kind', list(CORRUPTIONS))
def test_corrupt_frame_raises_for_every_backend(tmp_path, kind, decode_size,
                                                turbojpeg_impl):
    paths = _tracklet_with_bad_frame(tmp_path, kind)
    for backend in BACKENDS:
        t = LoadTrackletFrames(
            imdecode_backend=backend, decode_size=decode_size)
        with pytest.raises(OSError, match=f'bad_{kind}_0001.jpg') as exc:
            t(dict(img_paths=paths, frame_inds=np.array([0, 1, 2])))
        assert f"imdecode_backend='{backend}'" in str(
            exc.value) or (kind in ('missing', 'empty'))
    if kind in TURBOJPEG_WARNED:
        assert 'libjpeg-turbo: Premature end of JPEG file' in str(exc.value)
    fake = turbojpeg_impl
    if fake is not None:
        # frame 0 decoded, then frame 1 (only if its header parses) failed
        warned = [c for c in fake.calls if c['warnings']]
        assert len(fake.calls) == 1 + len(warned)
        assert len(warned) == (kind in TURBOJPEG_WARNED)
        for c in warned:
            assert c['warnings'][0] == 'Premature end of JPEG file'
        # 64x32 frame 0: 1/2; 256x128 corrupt frame 1: 1/8 for (16, 32)
        assert _scaling_factors(fake) == ([None, None] if decode_size is None
                                          else [(1, 2),
                                                (1, 8)])[:len(fake.calls)]


@pytest.mark.parametrize('kind', list(CORRUPTIONS))
def test_skip_corrupt_same_for_every_backend(tmp_path, kind, turbojpeg_impl,
                                             mmlogger_messages):
    paths = _tracklet_with_bad_frame(tmp_path, kind)
    results = {}
    for backend in BACKENDS:
        n_before = len(mmlogger_messages)
        out = LoadTrackletFrames(
            imdecode_backend=backend, skip_corrupt=True)(
                dict(img_paths=paths, frame_inds=np.array([1, 1, 3])))
        warns = [
            m for m in mmlogger_messages[n_before:] if m.startswith('WARNING')
        ]
        assert len(warns) == 1 and paths[1] in warns[0]
        # frame 1 -> frame 0 (the earlier one on ties)
        assert out['replaced_frames'] == {paths[1]: paths[0]}
        results[backend] = out['imgs']
    fake = turbojpeg_impl
    if fake is not None:
        # frames 0 and 3 decoded by TurboJPEG (plus frame 1 if it got there)
        warned = [c for c in fake.calls if c['warnings']]
        assert len(warned) == (kind in TURBOJPEG_WARNED)
        assert len(fake.calls) == 2 + len(warned)
    ref = results['cv2']
    assert [int(np.median(im)) for im in ref] == [20, 20, 140]
    for imgs in results.values():
        assert len(imgs) == 3 and imgs[0] is not imgs[1]
        for a, b in zip(ref, imgs):
            assert a.shape == b.shape
            assert np.abs(a.astype(int) - b).max() <= JPEG_BACKEND_ATOL

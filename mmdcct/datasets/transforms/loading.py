"""Reading the sampled frames of a tracklet.

Config-level contract::

    dict(type='LoadTrackletFrames',
         backend_args=None,        # mmengine.fileio backend (local if None)
         channel_order='rgb',      # frames are RGB for the whole pipeline
         imdecode_backend='cv2',   # 'cv2' | 'pillow' | 'turbojpeg'
         decode_size=None,         # (w, h): reduced JPEG decode, see below
         skip_corrupt=False)       # True: replace unreadable frames

Required keys: ``img_paths`` (list[str]); optional ``frame_inds``
(``np.int64`` array, written by a frame sampling such as
:class:`RestrictedRandomSampling`; when absent
every frame of the tracklet is loaded in order).

Added keys:

- ``imgs`` (list[np.ndarray]): ``len(frame_inds)`` frames, each ``H x W x 3``
  ``uint8`` in ``channel_order``. Repeated indices yield independent copies
  (never aliases), so in-place augmentations stay safe.
- ``img_shape`` (tuple[int, int]): ``(H, W)`` of the first frame (as decoded,
  i.e. reduced when ``decode_size`` reduced it).
- ``ori_shape`` (tuple[int, int]): same as ``img_shape`` at load time.

- ``replaced_frames`` (dict[str, str]): only with ``skip_corrupt=True``:
  ``{unreadable path: path of the frame used instead}`` (empty if none).

Decoders (``imdecode_backend``):

- ``'cv2'`` (default): ``cv2.imdecode``.
- ``'pillow'``: the plain ``PIL.Image`` API only (``open``, ``draft``,
  ``convert``), so installing Pillow-SIMD in place of Pillow speeds it up
  with no code change.
- ``'turbojpeg'``: PyTurboJPEG (``pip install PyTurboJPEG`` plus the
  libjpeg-turbo shared library, e.g. ``apt-get install libturbojpeg0``;
  PyTurboJPEG>=2 needs libjpeg-turbo>=3). Checked at construction. Non-JPEG
  files are decoded with ``cv2``.

All three honour the EXIF orientation tag (as ``cv2.IMREAD_COLOR`` does).

Reduced-size decode: with ``decode_size=(w, h)`` a JPEG frame of (oriented)
size ``W x H`` is decoded directly at scale ``1/s``, ``s`` the largest of 8,
4, 2, 1 with ``s <= min(W // w, H // h)`` (so the ``ceil(W / s) x
ceil(H / s)`` result is still at least ``w x h``), using libjpeg's DCT
scaling: ``cv2.IMREAD_REDUCED_COLOR_{2,4,8}``, ``PIL.Image.draft`` or
TurboJPEG's ``scaling_factor``. The source size is read from the JPEG header
(``PIL.Image.open`` does not decode the pixels). Non-JPEG frames, frames
smaller than ``2 * decode_size`` and JPEGs whose header cannot be parsed are
decoded at full size. The ``Resize`` later in the pipeline brings the frames
to the exact model size; set ``decode_size`` to that size (e.g.
``(128, 256)`` for 256x128 inputs). It speeds up datasets whose frames are
larger than the model input (DukeMTMC-VideoReID, real-world crops).

A file that cannot be read or decoded raises :class:`OSError` whose message
names the file (no retry: the authors' loader retries forever). With
``skip_corrupt=True`` a warning naming the file is logged instead and the
nearest readable frame of the same tracklet is used (an error is raised only
if no frame of the tracklet is readable). Missing, empty, non-image and
truncated files are unreadable for every decoder. A JPEG corrupted in the
middle of its entropy-coded data, which libjpeg reports only as a warning,
is decoded (with grey/garbled blocks) by ``cv2`` but rejected by ``'pillow'``
and ``'turbojpeg'``.
"""
import logging
import warnings
from io import BytesIO
from typing import Dict, List, Optional, Sequence, Set, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log
from PIL import Image

from mmdcct.registry import TRANSFORMS

__all__ = ['LoadTrackletFrames', 'LoadTrackletFromArray']

#: Decoders accepted by ``LoadTrackletFrames(imdecode_backend=...)``.
IMDECODE_BACKENDS = ('cv2', 'pillow', 'turbojpeg')

_TURBOJPEG_INSTALL = (
    'install PyTurboJPEG (`pip install PyTurboJPEG`) and the libjpeg-turbo '
    'shared library (e.g. `apt-get install libturbojpeg0`; PyTurboJPEG>=2 '
    "needs libjpeg-turbo>=3, else use 'PyTurboJPEG<2'), or use "
    "imdecode_backend='cv2' or 'pillow'")

_JPEG_SOI = b'\xff\xd8\xff'
_EXIF_ORIENTATION = 0x0112
_CV2_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}

# one TurboJPEG handle per process, created on first use (it holds ctypes
# pointers, so it cannot live in the picklable transform)
_turbojpeg = None


def _get_turbojpeg():
    """Return the per-process ``turbojpeg.TurboJPEG`` instance.

    Returns:
        turbojpeg.TurboJPEG: The decoder.

    Raises:
        ImportError: If PyTurboJPEG or the libjpeg-turbo library is missing.
    """
    global _turbojpeg
    if _turbojpeg is None:
        try:
            import turbojpeg
        except ImportError as e:
            raise ImportError(
                "LoadTrackletFrames: imdecode_backend='turbojpeg' needs the "
                f'PyTurboJPEG package, which is not importable ({e}); '
                f'{_TURBOJPEG_INSTALL}.') from e
        try:
            _turbojpeg = turbojpeg.TurboJPEG()
        except Exception as e:
            raise ImportError(
                "LoadTrackletFrames: imdecode_backend='turbojpeg': "
                'PyTurboJPEG cannot load the libjpeg-turbo library '
                f'({type(e).__name__}: {e}); {_TURBOJPEG_INSTALL}.') from e
    return _turbojpeg


def _jpeg_header(img_bytes: bytes) -> Optional[Tuple[int, int, int]]:
    """Read the size and EXIF orientation of a JPEG without decoding it.

    Args:
        img_bytes (bytes): The encoded file.

    Returns:
        tuple[int, int, int] | None: ``(W, H, orientation)`` of the stored
        (not yet oriented) image, orientation in 1..8 (1 when absent or
        invalid); None if the bytes are not a parseable JPEG.
    """
    if not img_bytes.startswith(_JPEG_SOI):
        return None
    try:
        with Image.open(BytesIO(img_bytes), formats=('JPEG', )) as im:
            w, h = im.size
            orientation = _exif_orientation(im)
    except Exception:
        return None
    return w, h, orientation


def _exif_orientation(im: Image.Image) -> int:
    """EXIF orientation 1..8 of an opened image (1 when absent/invalid)."""
    orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
    return orientation if orientation in range(1, 9) else 1


def _reduction(width: int, height: int, orientation: int,
               decode_size: Optional[Tuple[int, int]]) -> int:
    """Largest power-of-two reduction keeping ``decode_size``.

    Args:
        width (int): Stored width ``W`` of the JPEG.
        height (int): Stored height ``H`` of the JPEG.
        orientation (int): EXIF orientation (5..8 swap the axes).
        decode_size (tuple[int, int] | None): Wanted ``(w, h)`` after
            orientation.

    Returns:
        int: ``s`` in 1, 2, 4, 8 with ``ceil(W / s) >= w`` and
        ``ceil(H / s) >= h`` (1 when ``decode_size`` is None).
    """
    if decode_size is None:
        return 1
    w, h = decode_size
    if orientation >= 5:  # stored rotated by 90 degrees
        w, h = h, w
    ratio = min(width // w, height // h)
    for s in (8, 4, 2):
        if ratio >= s:
            return s
    return 1


def _apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to an ``H x W x C`` array.

    Same result as ``PIL.ImageOps.exif_transpose`` and ``cv2.imread``.

    Args:
        img (np.ndarray): ``H x W x C`` image as stored.
        orientation (int): EXIF orientation 1..8.

    Returns:
        np.ndarray: The displayed image (contiguous).
    """
    if orientation == 2:
        img = img[:, ::-1]
    elif orientation == 3:
        img = img[::-1, ::-1]
    elif orientation == 4:
        img = img[::-1]
    elif orientation == 5:
        img = img.transpose(1, 0, 2)
    elif orientation == 6:
        img = img[::-1].transpose(1, 0, 2)
    elif orientation == 7:
        img = img[::-1, ::-1].transpose(1, 0, 2)
    elif orientation == 8:
        img = img[:, ::-1].transpose(1, 0, 2)
    else:
        return img
    return np.ascontiguousarray(img)


@TRANSFORMS.register_module()
class LoadTrackletFrames(BaseTransform):
    """Load the frames ``img_paths[frame_inds]`` of a tracklet.

    Each distinct path is read and decoded once per call; duplicated indices
    (padding of short tracklets) get copies of the decoded array.

    Required keys: ``img_paths``; optional ``frame_inds``.

    Added keys: ``imgs`` (list of ``H x W x 3`` ``uint8`` arrays, one per
    entry of ``frame_inds``), ``img_shape`` and ``ori_shape`` (``(H, W)``).

    Args:
        backend_args (dict, optional): Arguments that instantiate the
            ``mmengine.fileio`` backend. Defaults to None (local disk).
        channel_order (str): ``'rgb'`` or ``'bgr'``. Defaults to 'rgb'.
        imdecode_backend (str): Frame decoder: ``'cv2'``, ``'pillow'``
            (plain ``PIL.Image`` API, sped up by installing Pillow-SIMD) or
            ``'turbojpeg'`` (needs PyTurboJPEG and libjpeg-turbo, checked
            here; non-JPEG files fall back to ``cv2``). Defaults to 'cv2'.
        decode_size (Sequence[int], optional): ``(w, h)``. When given, JPEG
            frames are decoded directly at the largest reduction 1/2, 1/4 or
            1/8 whose result is still at least ``w x h`` (DCT scaling, much
            faster than a full decode for large frames); other frames are
            decoded at full size. Set it to the model input size of the
            ``Resize`` that follows. Defaults to None (always full size).
        to_float32 (bool): Convert the frames to ``float32``. Defaults to
            False (keep ``uint8``).
        skip_corrupt (bool): If True, a frame that cannot be read or decoded
            is replaced by the nearest readable frame of the same tracklet
            (by index distance in ``img_paths``; the earlier frame on ties)
            and a warning naming the file is logged; the replacements are
            recorded in ``replaced_frames``. An :class:`OSError` is still
            raised when no frame of the tracklet is readable. Defaults to
            False (raise an :class:`OSError` naming the file).

    Raises:
        ValueError: If ``channel_order``, ``imdecode_backend`` or
            ``decode_size`` is invalid.
        ImportError: If ``imdecode_backend='turbojpeg'`` and PyTurboJPEG or
            the libjpeg-turbo library is missing.
    """

    def __init__(self,
                 backend_args: Optional[dict] = None,
                 channel_order: str = 'rgb',
                 imdecode_backend: str = 'cv2',
                 decode_size: Optional[Sequence[int]] = None,
                 to_float32: bool = False,
                 skip_corrupt: bool = False) -> None:
        super().__init__()
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError(
                f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        if imdecode_backend not in IMDECODE_BACKENDS:
            raise ValueError(
                'LoadTrackletFrames: imdecode_backend must be one of '
                f'{IMDECODE_BACKENDS}, got {imdecode_backend!r}.')
        if imdecode_backend == 'turbojpeg':
            _get_turbojpeg()
        if decode_size is not None:
            if (isinstance(decode_size, (str, bytes))
                    or not isinstance(decode_size, Sequence)
                    or len(decode_size) != 2 or not all(
                        isinstance(v, (int, np.integer))
                        and not isinstance(v, bool) and v > 0
                        for v in decode_size)):
                raise ValueError(
                    'LoadTrackletFrames: decode_size must be None or a '
                    '(w, h) pair of positive ints (the model input size), '
                    f'got {decode_size!r}.')
            decode_size = (int(decode_size[0]), int(decode_size[1]))
        self.backend_args = None if backend_args is None else \
            backend_args.copy()
        self.channel_order = channel_order
        self.imdecode_backend = imdecode_backend
        self.decode_size: Optional[Tuple[int, int]] = decode_size
        self.to_float32 = to_float32
        self.skip_corrupt = bool(skip_corrupt)

    def _read(self, path: str) -> np.ndarray:
        """Read and decode one frame, raising an error naming the file.

        Args:
            path (str): Path (or URI) of the frame.

        Returns:
            np.ndarray: ``H x W x 3`` image in ``channel_order``.
        """
        try:
            img_bytes = fileio.get(path, backend_args=self.backend_args)
        except Exception as e:
            raise OSError(f'Failed to read frame file {path!r}: '
                          f'{type(e).__name__}: {e}') from e
        if not img_bytes:
            raise OSError(f'Failed to decode frame file {path!r} '
                          '(empty file).')
        try:
            img = self._decode(bytes(img_bytes))
        except Exception as e:
            raise OSError(f'Failed to decode frame file {path!r} '
                          f'(corrupt or not an image; imdecode_backend='
                          f"'{self.imdecode_backend}'): "
                          f'{type(e).__name__}: {e}') from e
        if img is None or img.size == 0:
            raise OSError(f'Failed to decode frame file {path!r} '
                          '(corrupt or not an image; imdecode_backend='
                          f"'{self.imdecode_backend}').")
        if self.to_float32:
            img = img.astype(np.float32)
        return img

    def _decode(self, img_bytes: bytes) -> Optional[np.ndarray]:
        """Decode one encoded frame with ``imdecode_backend``.

        Args:
            img_bytes (bytes): The encoded file (non-empty).

        Returns:
            np.ndarray | None: ``H x W x 3`` ``uint8`` image in
            ``channel_order``, reduced as ``decode_size`` allows; None (or an
            exception) when the bytes cannot be decoded.
        """
        if self.imdecode_backend == 'pillow':
            return self._decode_pillow(img_bytes)
        header = None
        if self.decode_size is not None or (self.imdecode_backend
                                            == 'turbojpeg'):
            header = _jpeg_header(img_bytes)
        if self.imdecode_backend == 'turbojpeg' and header is not None:
            return self._decode_turbojpeg(img_bytes, header)
        scale = 1 if header is None else _reduction(*header, self.decode_size)
        img = cv2.imdecode(
            np.frombuffer(img_bytes, np.uint8), _CV2_REDUCED[scale])
        if img is not None and self.channel_order == 'rgb':
            cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
        return img

    def _decode_pillow(self, img_bytes: bytes) -> np.ndarray:
        """Decode with the plain ``PIL.Image`` API (Pillow-SIMD compatible).

        Args:
            img_bytes (bytes): The encoded file.

        Returns:
            np.ndarray: ``H x W x 3`` ``uint8`` image in ``channel_order``.
        """
        with Image.open(BytesIO(img_bytes)) as im:
            orientation = _exif_orientation(im)
            if self.decode_size is not None and im.format == 'JPEG':
                w, h = self.decode_size
                if orientation >= 5:
                    w, h = h, w
                # picks the same 1/s as _reduction (largest s with
                # s <= min(W // w, H // h))
                im.draft('RGB', (w, h))
            if im.mode != 'RGB':
                im = im.convert('RGB')
            img = np.array(im)  # writable copy (np.asarray may be read-only)
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'decoded to shape {img.shape}, not H x W x 3')
        img = _apply_orientation(img, orientation)
        if self.channel_order == 'bgr':
            img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        return img

    def _decode_turbojpeg(self, img_bytes: bytes,
                          header: Tuple[int, int, int]) -> np.ndarray:
        """Decode a JPEG with TurboJPEG (libjpeg warnings are errors).

        Args:
            img_bytes (bytes): The encoded JPEG.
            header (tuple[int, int, int]): ``(W, H, orientation)`` from
                :func:`_jpeg_header`.

        Returns:
            np.ndarray: ``H x W x 3`` ``uint8`` image in ``channel_order``.
        """
        import turbojpeg
        scale = _reduction(*header, self.decode_size)
        pixel_format = turbojpeg.TJPF_RGB if self.channel_order == 'rgb' \
            else turbojpeg.TJPF_BGR
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always', UserWarning)
            img = _get_turbojpeg().decode(
                img_bytes,
                pixel_format=pixel_format,
                scaling_factor=(1, scale) if scale > 1 else None)
        # PyTurboJPEG only warns on a truncated or damaged JPEG (grey fill);
        # reject it like cv2 and pillow do
        messages = [
            str(w.message) for w in caught
            if issubclass(w.category, UserWarning)
        ]
        if messages:
            raise ValueError('libjpeg-turbo: ' + '; '.join(messages))
        return _apply_orientation(img, header[2])

    def transform(self, results: dict) -> dict:
        """Load the sampled frames.

        Args:
            results (dict): Must contain ``img_paths``; may contain
                ``frame_inds``.

        Returns:
            dict: ``results`` with ``imgs``, ``img_shape`` and ``ori_shape``.
        """
        img_paths = results['img_paths']
        frame_inds = results.get('frame_inds')
        if frame_inds is None:
            frame_inds = np.arange(len(img_paths), dtype=np.int64)
        frame_inds = np.asarray(frame_inds, dtype=np.int64).reshape(-1)
        if frame_inds.size == 0:
            raise ValueError('frame_inds is empty; nothing to load.')
        if frame_inds.min() < 0 or frame_inds.max() >= len(img_paths):
            raise IndexError(
                f'frame_inds {frame_inds.tolist()} out of range for a '
                f'tracklet of {len(img_paths)} frames.')

        cache: Dict[int, np.ndarray] = {}
        failed: Set[int] = set()
        replaced: Dict[str, str] = {}
        used: Set[int] = set()
        imgs: List[np.ndarray] = []
        for ind in frame_inds.tolist():
            if ind not in cache and ind not in failed:
                self._try_read(ind, img_paths, cache, failed)
            if ind in failed:
                sub = self._nearest_readable(ind, img_paths, cache, failed)
                replaced[img_paths[ind]] = img_paths[sub]
                ind = sub
            # the first use of a frame gets the decoded array, later ones
            # independent copies (never aliases)
            imgs.append(cache[ind].copy() if ind in used else cache[ind])
            used.add(ind)

        results['imgs'] = imgs
        results['img_shape'] = imgs[0].shape[:2]
        results['ori_shape'] = imgs[0].shape[:2]
        if self.skip_corrupt:
            results['replaced_frames'] = replaced
        return results

    def _try_read(self, ind: int, img_paths: List[str],
                  cache: Dict[int, np.ndarray], failed: Set[int]) -> bool:
        """Read frame ``ind`` into ``cache``, or record it in ``failed``.

        Without ``skip_corrupt`` a read error propagates; with it, a warning
        naming the file is logged.

        Returns:
            bool: Whether the frame was read.
        """
        try:
            cache[ind] = self._read(img_paths[ind])
            return True
        except OSError as e:
            if not self.skip_corrupt:
                raise
            failed.add(ind)
            print_log(
                f'LoadTrackletFrames(skip_corrupt=True): skipping the '
                f'unreadable frame {img_paths[ind]!r} ({e}); the nearest '
                'readable frame of the tracklet is used instead.',
                logger='current',
                level=logging.WARNING)
            return False

    def _nearest_readable(self, ind: int, img_paths: List[str],
                          cache: Dict[int,
                                      np.ndarray], failed: Set[int]) -> int:
        """Return the index of the readable frame nearest to ``ind``.

        Frames are tried at distance 1, 2, ... (the earlier one first).

        Raises:
            OSError: If no frame of the tracklet is readable.
        """
        n = len(img_paths)
        for dist in range(1, n):
            for cand in (ind - dist, ind + dist):
                if not 0 <= cand < n or cand in failed:
                    continue
                if cand in cache or self._try_read(cand, img_paths, cache,
                                                   failed):
                    return cand
        raise OSError(
            f'No readable frame in the tracklet of {n} frames whose frame '
            f'{img_paths[ind]!r} is unreadable (skip_corrupt=True needs at '
            f'least one readable frame; first frame: {img_paths[0]!r}).')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'backend_args={self.backend_args}, '
                f"channel_order='{self.channel_order}', "
                f"imdecode_backend='{self.imdecode_backend}', "
                f'decode_size={self.decode_size}, '
                f'to_float32={self.to_float32}, '
                f'skip_corrupt={self.skip_corrupt})')


@TRANSFORMS.register_module()
class LoadTrackletFromArray(BaseTransform):
    """Take the sampled frames of an in-memory tracklet.

    The stand-in for :class:`LoadTrackletFrames` when a tracklet is a numpy
    array (:class:`~mmdcct.apis.VideoReIDInferencer`): the sampling
    transform before it sees ``img_paths`` placeholders (one per frame) and
    writes ``frame_inds`` as usual.

    Required keys: ``frames`` (``(T, H, W, 3)`` RGB ``uint8``); optional
    ``frame_inds``.

    Added keys: ``imgs`` (list of ``H x W x 3`` arrays, independent copies),
    ``img_shape`` and ``ori_shape`` (``(H, W)``). ``frames`` is removed.
    """

    def transform(self, results: dict) -> dict:
        """Select the frames ``frames[frame_inds]``.

        Args:
            results (dict): With ``frames`` and optionally ``frame_inds``.

        Returns:
            dict: ``results`` with ``imgs``, ``img_shape``, ``ori_shape``.

        Raises:
            IndexError: If a frame index is outside the array.
        """
        frames = results.pop('frames')
        inds = results.get('frame_inds')
        if inds is None:
            inds = np.arange(len(frames), dtype=np.int64)
        inds = np.asarray(inds, dtype=np.int64).reshape(-1)
        if inds.size and (inds.min() < 0 or inds.max() >= len(frames)):
            raise IndexError(
                f'frame_inds {inds.tolist()} out of range for an array '
                f'tracklet of {len(frames)} frames.')
        imgs = [np.array(frames[i], copy=True) for i in inds.tolist()]
        results['imgs'] = imgs
        results['img_shape'] = imgs[0].shape[:2]
        results['ori_shape'] = imgs[0].shape[:2]
        return results

"""Deterministic generators of small synthetic datasets in the layouts of
MARS, DukeMTMC-VideoReID, iLIDS-VID and PRID-2011.

The MARS tree is a drop-in replacement of MARS for demos, tests and
smoke runs (``MARS(data_root=out_dir)`` reads it): people with distinct,
camera-independent clothes walk through cameras that differ in background,
colour cast, brightness, noise and blur; tracklets have varying lengths,
frame-to-frame jitter and occasional occlusions; the test set holds junk
(``-1``) and distractor (``0``) tracklets and exactly one query per
(identity, camera), and a few identities appear only as queries.

:func:`make_synthetic_duke_video`, :func:`make_synthetic_ilids_vid` and
:func:`make_synthetic_prid2011` write the other layouts with the same people
and cameras (frames written in a shuffled order).
"""
import colorsys
import io
import json
import math
import os
import os.path as osp
import shutil
import time
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from scipy.io import savemat

__all__ = [
    'make_synthetic_mars', 'mars_image_name', 'make_synthetic_duke_video',
    'make_synthetic_ilids_vid', 'make_synthetic_prid2011'
]

# Camera looks: (per-channel RGB gain, brightness offset). Shuffled per seed
# and jittered, so that cameras differ clearly in colour cast and lighting.
_CAMERA_LOOKS = (
    ((1.15, 1.00, 0.80), 10.),  # warm, sunny
    ((0.82, 0.95, 1.18), -5.),  # cool, overcast
    ((0.85, 0.85, 0.85), -28.),  # dark indoor
    ((1.08, 1.08, 1.08), 22.),  # bright
    ((0.90, 1.12, 0.88), 0.),  # greenish fluorescent
    ((1.00, 1.00, 1.00), 0.),  # neutral
    ((1.10, 0.90, 1.05), -10.),  # magenta cast
    ((0.95, 1.00, 1.10), 15.),  # bluish bright
    ((1.05, 1.05, 0.90), -18.),  # dim tungsten
)

_SKIN_TONES = ((255, 224, 196), (241, 194, 160), (224, 172, 130),
               (198, 134, 86), (141, 85, 54), (95, 60, 40))
_HAIR_COLOURS = ((20, 15, 10), (60, 40, 25), (110, 75, 40), (200, 170, 100),
                 (150, 60, 30), (170, 170, 170), (35, 30, 30))

# poses of the walking cycle: (leg stride, arm swing), in reference pixels
_POSES = ((0, 0), (5, -4), (0, 0), (-5, 4))

_REF_H, _REF_W = 128., 64.


def mars_image_name(pid: int, cam: int, tracklet: int, frame: int) -> str:
    """Return the MARS file name of one frame.

    Args:
        pid (int): The identity; ``-1`` (junk) is written ``'00-1'``.
        cam (int): The 1-based camera.
        tracklet (int): The tracklet number.
        frame (int): The 1-based frame number.

    Returns:
        str: e.g. ``'0001C1T0001F001.jpg'``.
    """
    pid_str = '00-1' if pid == -1 else f'{pid:04d}'
    return f'{pid_str}C{cam}T{tracklet:04d}F{frame:03d}.jpg'


# ---------------------------------------------------------------- appearance
def _rand_colour(
    rng: np.random.Generator,
    sat: Tuple[float, float] = (0.35, 1.0),
    val: Tuple[float, float] = (0.25, 1.0)
) -> Tuple[int, ...]:
    """Draw a saturated colour, or with some chance a grey level."""
    if rng.random() < 0.18:  # black / grey / white clothes
        v = int(rng.choice([25, 60, 120, 180, 235]))
        return (v, v, v)
    h = rng.random()
    s = rng.uniform(*sat)
    v = rng.uniform(*val)
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return (int(r * 255), int(g * 255), int(b * 255))


def _random_person(rng: np.random.Generator) -> dict:
    """Draw the clothes and body of one person."""
    shirt = _rand_colour(rng)
    shirt2 = _rand_colour(rng)
    return dict(
        skin=_SKIN_TONES[rng.integers(len(_SKIN_TONES))],
        hair=_HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))],
        hair_style=str(
            rng.choice(['short', 'long', 'cap', 'bald'],
                       p=[0.45, 0.3, 0.15, 0.1])),
        cap=_rand_colour(rng),
        shirt=shirt,
        shirt2=shirt2,
        pattern=str(
            rng.choice(
                ['plain', 'hstripes', 'vstripes', 'checks', 'logo', 'twotone'],
                p=[0.3, 0.2, 0.1, 0.15, 0.15, 0.1])),
        period=int(rng.integers(3, 7)),
        sleeves=str(rng.choice(['long', 'short'])),
        lower=_rand_colour(rng, val=(0.15, 0.8)),
        lower_type=str(
            rng.choice(['trousers', 'shorts', 'skirt'], p=[0.65, 0.2, 0.15])),
        shoes=_rand_colour(rng, val=(0.05, 0.9)),
        bag=str(
            rng.choice(['none', 'backpack', 'shoulder'], p=[0.5, 0.3, 0.2])),
        bag_colour=_rand_colour(rng, val=(0.1, 0.8)),
        width=float(rng.uniform(0.85, 1.15)),
        height=float(rng.uniform(0.92, 1.0)),
    )


class _Painter:
    """Draws shapes given in 128x64 reference pixels on a supersampled
    canvas and its alpha mask."""

    def __init__(self, height: int, width: int, ss: int, person: dict):
        self.h, self.w = height * ss, width * ss
        self.sx = self.w / _REF_W * person['width']
        self.sy = self.h / _REF_H * person['height']
        self.oy = self.h * (1 - person['height'])  # feet stay at the bottom
        self.thick = 0.5 * (self.w / _REF_W + self.h / _REF_H)
        self.img = np.zeros((self.h, self.w, 3), np.uint8)
        self.mask = np.zeros((self.h, self.w), np.uint8)

    def pt(self, x: float, y: float) -> Tuple[int, int]:
        cx = self.w / 2
        return (int(round(cx + (x - _REF_W / 2) * self.sx)),
                int(round(self.oy + y * self.sy)))

    def _both(self, fn, colour, *args, **kwargs):
        fn(self.img, *args, color=tuple(int(c) for c in colour), **kwargs)
        fn(self.mask, *args, color=255, **kwargs)

    def poly(self, pts: Sequence[Tuple[float, float]], colour) -> None:
        arr = np.array([self.pt(x, y) for x, y in pts], np.int32)
        self._both(cv2.fillPoly, colour, [arr])

    def line(self, p0, p1, width: float, colour) -> None:
        t = max(1, int(round(width * self.thick)))
        self._both(cv2.line, colour, self.pt(*p0), self.pt(*p1), thickness=t)

    def ellipse(self, c, axes, colour, start: float = 0, end: float = 360):
        ax = (max(1, int(round(axes[0] * self.sx))),
              max(1, int(round(axes[1] * self.sy))))
        self._both(
            cv2.ellipse, colour, self.pt(*c), ax, 0, start, end, thickness=-1)


def _shirt_texture(p: _Painter, person: dict) -> np.ndarray:
    """Return the full-canvas texture of the shirt of ``person``."""
    h, w = p.h, p.w
    c1 = np.array(person['shirt'], np.uint8)
    c2 = np.array(person['shirt2'], np.uint8)
    pattern = person['pattern']
    period = max(1, int(round(person['period'] * p.thick)))
    ys, xs = np.mgrid[0:h, 0:w]
    if pattern == 'hstripes':
        sel = (ys // period) % 2 == 1
    elif pattern == 'vstripes':
        sel = (xs // period) % 2 == 1
    elif pattern == 'checks':
        sel = ((ys // period) + (xs // period)) % 2 == 1
    elif pattern == 'twotone':
        sel = ys > p.pt(0, 48)[1]
    elif pattern == 'logo':
        cx, cy = p.pt(32, 42)
        r = 5 * p.thick
        sel = (xs - cx)**2 + (ys - cy)**2 < r * r
    else:
        sel = np.zeros((h, w), bool)
    tex = np.empty((h, w, 3), np.uint8)
    tex[:] = c1
    tex[sel] = c2
    return tex


def _render_person(person: dict, height: int, width: int,
                   pose: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """Render one pose of a person as an RGB sprite and an alpha mask.

    Args:
        person (dict): Attributes drawn by :func:`_random_person`.
        height (int): Image height.
        width (int): Image width.
        pose (tuple[int, int]): Leg stride and arm swing.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``float32`` RGB sprite ``(H, W, 3)``
        and alpha ``(H, W)`` in ``[0, 1]``.
    """
    ss = max(2, int(math.ceil(256 / height)))
    p = _Painter(height, width, ss, person)
    stride, swing = pose
    skin, shirt, lower = person['skin'], person['shirt'], person['lower']

    # long hair and the backpack are behind the body
    if person['hair_style'] == 'long':
        p.poly([(23, 12), (41, 12), (42, 42), (22, 42)], person['hair'])
    if person['bag'] == 'backpack':
        p.poly([(43, 33), (51, 35), (51, 62), (43, 62)], person['bag_colour'])

    # legs
    hips = ((27, 68), (37, 68))
    feet = ((27 + stride, 113), (37 - stride, 113))
    for hip, foot in zip(hips, feet):
        if person['lower_type'] == 'trousers':
            p.line(hip, foot, 9, lower)
        else:
            p.line(hip, foot, 7, skin)
            if person['lower_type'] == 'shorts':
                knee = (hip[0] + 0.4 * (foot[0] - hip[0]),
                        hip[1] + 0.4 * (foot[1] - hip[1]))
                p.line(hip, knee, 9.5, lower)
        p.ellipse((foot[0], 116), (5, 3), person['shoes'])
    if person['lower_type'] == 'skirt':
        p.poly([(20, 64), (44, 64), (47, 90), (17, 90)], lower)

    # arms
    for shoulder, hand in (((20, 31), (15 + swing, 64)), ((44, 31),
                                                          (49 - swing, 64))):
        if person['sleeves'] == 'long':
            p.line(shoulder, hand, 6, shirt)
        else:
            elbow = ((shoulder[0] + hand[0]) / 2, (shoulder[1] + hand[1]) / 2)
            p.line(elbow, hand, 5, skin)
            p.line(shoulder, elbow, 6.5, shirt)
        p.ellipse(hand, (3, 3), skin)

    # torso with its texture
    torso = np.array(
        [p.pt(x, y) for x, y in ((19, 29), (45, 29), (43, 69), (21, 69))],
        np.int32)
    torso_mask = np.zeros((p.h, p.w), np.uint8)
    cv2.fillPoly(torso_mask, [torso], 255)
    tex = _shirt_texture(p, person)
    sel = torso_mask > 0
    p.img[sel] = tex[sel]
    p.mask[sel] = 255

    # bags in front
    if person['bag'] == 'backpack':
        p.line((22, 30), (24, 60), 2.5, person['bag_colour'])
        p.line((42, 30), (40, 60), 2.5, person['bag_colour'])
    elif person['bag'] == 'shoulder':
        p.line((22, 29), (43, 62), 2, person['bag_colour'])
        p.poly([(39, 58), (51, 58), (51, 73), (39, 73)], person['bag_colour'])

    # neck, head, hair
    p.poly([(29, 24), (35, 24), (35, 30), (29, 30)], skin)
    p.ellipse((32, 17), (7, 9), skin)
    style = person['hair_style']
    if style in ('short', 'long'):
        p.ellipse((32, 14), (8, 6.5), person['hair'], 180, 360)
        p.poly([(24, 14), (40, 14), (40, 16), (24, 16)], person['hair'])
    elif style == 'cap':
        p.ellipse((32, 13), (8, 6), person['cap'], 180, 360)
        p.poly([(24, 12), (44, 12), (44, 15), (24, 15)], person['cap'])
    elif style == 'bald':
        p.ellipse((32, 11), (5, 3), person['hair'], 180, 360)

    img = cv2.resize(p.img, (width, height), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(p.mask, (width, height), interpolation=cv2.INTER_AREA)
    return img.astype(np.float32), mask.astype(np.float32) / 255.


def _render_sprites(person: dict, height: int,
                    width: int) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Render the walking cycle of one person."""
    return [_render_person(person, height, width, pose) for pose in _POSES]


# ------------------------------------------------------------------- cameras
def _random_camera(rng: np.random.Generator, look: tuple, height: int,
                   width: int) -> dict:
    """Draw a camera: a background panorama, lighting, noise and blur."""
    pw = width * 6
    top = np.array(
        _rand_colour(rng, sat=(0.05, 0.5), val=(0.3, 0.95)), np.float32)
    floor = np.array(
        _rand_colour(rng, sat=(0.0, 0.4), val=(0.2, 0.8)), np.float32)
    horizon = int(rng.uniform(0.45, 0.7) * height)
    pano = np.empty((height, pw, 3), np.float32)
    ramp = np.linspace(0.85, 1.1, horizon, dtype=np.float32)[:, None, None]
    pano[:horizon] = top * ramp
    ramp = np.linspace(
        0.9, 1.15, height - horizon, dtype=np.float32)[:, None, None]
    pano[horizon:] = floor * ramp
    # structures: walls, doors, windows, poles
    for _ in range(int(rng.integers(4, 10))):
        colour = np.array(
            _rand_colour(rng, sat=(0.0, 0.7), val=(0.1, 1.0)), np.float32)
        x0 = int(rng.integers(0, pw))
        bw = int(rng.uniform(0.05, 0.8) * width)
        y0 = int(rng.uniform(0.0, 0.5) * horizon)
        y1 = int(rng.uniform(0.7, 1.05) * horizon)
        pano[y0:y1, x0:x0 + bw] = colour
        if rng.random() < 0.4:  # windows
            step = max(2, height // 16)
            win = colour * 0.55
            for yy in range(y0 + step // 2, y1 - step, 2 * step):
                pano[yy:yy + step, x0 + 1:x0 + bw - 1:2] = win
    # floor pattern: tiles or a crosswalk
    step = max(2, int(rng.uniform(0.04, 0.12) * height))
    shade = np.float32(rng.uniform(0.75, 0.9))
    if rng.random() < 0.5:
        pano[horizon::step] *= shade
    else:
        for x0 in range(0, pw, 2 * step):
            pano[horizon:, x0:x0 + step] *= shade
    # low-frequency texture
    small = rng.normal(0, 1, (max(2, height // 16), max(2, pw // 16), 3))
    tex = cv2.resize(
        small.astype(np.float32), (pw, height), interpolation=cv2.INTER_CUBIC)
    pano += tex * np.float32(rng.uniform(5, 14))
    gain, bias = look
    return dict(
        pano=np.clip(pano, 0, 255),
        gain=np.array(gain, np.float32) *
        rng.uniform(0.95, 1.05, 3).astype(np.float32),
        bias=np.float32(bias + rng.uniform(-5, 5)),
        noise=float(rng.uniform(1.5, 5.0)),
        blur=bool(rng.random() < 0.35),
        scale=float(rng.uniform(0.86, 1.0)),
    )


# ------------------------------------------------------------------ frames
def _render_tracklet(rng: np.random.Generator,
                     sprites: Optional[List[Tuple[np.ndarray, np.ndarray]]],
                     camera: dict, num_frames: int, height: int, width: int,
                     kind: str, occlusion_prob: float) -> List[np.ndarray]:
    """Render the RGB ``uint8`` frames of one tracklet.

    Args:
        rng (np.random.Generator): The tracklet's own random generator.
        sprites (list | None): The walking cycle of the person (None for a
            junk tracklet without anybody).
        camera (dict): The camera.
        num_frames (int): The tracklet length.
        height (int): Image height.
        width (int): Image width.
        kind (str): ``'person'``, ``'distractor'`` or ``'junk'``.
        occlusion_prob (float): Probability of an occlusion.

    Returns:
        list[np.ndarray]: RGB ``uint8`` frames.
    """
    pano = camera['pano']
    pw = pano.shape[1]
    flip = bool(rng.random() < 0.5)
    ox0 = float(rng.uniform(0, pw - width))
    vx = float(rng.uniform(-1.5, 1.5)) * width / _REF_W
    scale0 = camera['scale'] * rng.uniform(0.95, 1.05)
    dx0 = rng.uniform(-3, 3) * width / _REF_W
    dy0 = rng.uniform(-2, 2) * height / _REF_H
    if kind == 'distractor':  # badly framed people
        scale0 *= rng.uniform(0.8, 1.5)
        dy0 += rng.uniform(-0.25, 0.25) * height
        dx0 += rng.uniform(-0.2, 0.2) * width
    elif kind == 'junk' and sprites is not None:  # a fragment of somebody
        scale0 *= rng.uniform(1.5, 2.5)
        dy0 += rng.choice([-1, 1]) * rng.uniform(0.3, 0.5) * height
        dx0 += rng.choice([-1, 1]) * rng.uniform(0.2, 0.4) * width
    phase = int(rng.integers(len(_POSES)))
    light = rng.uniform(0.93, 1.07, 3).astype(np.float32)
    bias = np.float32(rng.uniform(-6, 6))

    occ = None
    if rng.random() < occlusion_prob and num_frames > 1:
        start = int(rng.integers(0, num_frames))
        stop = min(num_frames,
                   start + max(1, int(rng.uniform(0.2, 0.6) * num_frames)))
        colour = np.array(
            _rand_colour(rng, sat=(0.0, 0.6), val=(0.1, 0.9)), np.float32)
        if rng.random() < 0.5:  # bottom block (a bench, a car, a person)
            hh = int(rng.uniform(0.25, 0.5) * height)
            box = (height - hh, height, 0, width)
        else:  # side block (a pole, a door)
            ww = max(1, int(rng.uniform(0.25, 0.45) * width))
            x0 = 0 if rng.random() < 0.5 else width - ww
            box = (0, height, x0, x0 + ww)
        occ = (start, stop, box, colour)

    frames = []
    for t in range(num_frames):
        ox = int(round(ox0 + vx * t)) % (pw - width)
        img = pano[:, ox:ox + width].copy()
        if sprites is not None:
            sprite, alpha = sprites[(phase + t // 2) % len(sprites)]
            s = scale0 * (1 + 0.03 * math.sin(0.7 * t + phase))
            dx = dx0 + rng.uniform(-1.2, 1.2) * width / _REF_W
            dy = dy0 + rng.uniform(-1.2, 1.2) * height / _REF_H
            mat = np.array([[s, 0, (1 - s) * width / 2 + dx],
                            [0, s, (1 - s) * height * 0.97 + dy]], np.float32)
            if flip:
                sprite, alpha = sprite[:, ::-1], alpha[:, ::-1]
            spr = cv2.warpAffine(
                np.ascontiguousarray(sprite),
                mat, (width, height),
                flags=cv2.INTER_LINEAR,
                borderValue=(0, 0, 0))
            a = cv2.warpAffine(
                np.ascontiguousarray(alpha),
                mat, (width, height),
                flags=cv2.INTER_LINEAR,
                borderValue=0)[..., None]
            img = img * (1 - a) + spr * a
        if occ is not None and occ[0] <= t < occ[1]:
            y0, y1, x0, x1 = occ[2]
            img[y0:y1, x0:x1] = occ[3]
        img = img * (camera['gain'] * light) + (camera['bias'] + bias)
        if camera['blur']:
            img = cv2.GaussianBlur(img, (3, 3), 0)
        img += rng.normal(0, camera['noise'], img.shape).astype(np.float32)
        frames.append(np.clip(img + 0.5, 0, 255).astype(np.uint8))
    return frames


# ---------------------------------------------------------------- the tree
def _savemat_deterministic(path: str, mdict: dict) -> None:
    """``scipy.io.savemat`` with a fixed header (no creation time), so that
    the same content gives byte-identical files."""
    buf = io.BytesIO()
    savemat(buf, mdict)
    data = bytearray(buf.getvalue())
    header = b'MATLAB 5.0 MAT-file, written by mmdcct make_synthetic_mars'
    data[:116] = header.ljust(116, b' ')
    with open(path, 'wb') as f:
        f.write(bytes(data))


def _draw_lengths(rng: np.random.Generator, n: int, tracklet_len: Tuple[int,
                                                                        int],
                  short_ratio: float) -> List[int]:
    """Draw tracklet lengths: some shorter than 8 frames, the rest long."""
    lo, hi = tracklet_len
    out = []
    for _ in range(n):
        if lo < 8 and (hi < 8 or rng.random() < short_ratio):
            out.append(int(rng.integers(lo, min(hi, 7) + 1)))
        else:
            out.append(int(rng.integers(max(lo, 8), hi + 1)))
    return out


def _plan_identity(rng: np.random.Generator,
                   num_cams: int,
                   cams_per_id: Tuple[int, int],
                   tracklets_per_cam: Tuple[int, int],
                   query_only: bool = False,
                   need_gallery: bool = False) -> Dict[int, int]:
    """Return ``{1-based camera: number of tracklets}`` of one identity."""
    lo = min(cams_per_id[0], num_cams)
    hi = min(cams_per_id[1], num_cams)
    n = int(rng.integers(lo, hi + 1))
    cams = sorted(int(c) + 1 for c in rng.choice(num_cams, n, replace=False))
    if query_only:
        return {c: 1 for c in cams}
    plan = {
        c: int(rng.integers(tracklets_per_cam[0], tracklets_per_cam[1] + 1))
        for c in cams
    }
    if need_gallery and all(v == 1 for v in plan.values()):
        plan[cams[int(rng.integers(len(cams)))]] = 2
    return plan


def make_synthetic_mars(out_dir: str,
                        num_train_ids: int = 60,
                        num_test_ids: int = 60,
                        num_cams: int = 6,
                        cams_per_id: Tuple[int, int] = (2, 4),
                        tracklets_per_cam: Tuple[int, int] = (1, 3),
                        tracklet_len: Tuple[int, int] = (4, 40),
                        short_ratio: float = 0.25,
                        occlusion_prob: float = 0.15,
                        junk_ratio: float = 0.07,
                        distractor_ratio: float = 0.2,
                        query_only_ratio: float = 0.05,
                        img_size: Tuple[int, int] = (128, 64),
                        jpeg_quality: int = 90,
                        seed: int = 0,
                        overwrite: bool = False) -> dict:
    """Write a synthetic video Re-ID dataset with the exact MARS layout.

    The result is read by :class:`mmdcct.datasets.MARS`. Identities are
    distinct people (skin, hair, shirt colours and texture, sleeves,
    trousers/shorts/skirt, shoes, bags, build) whose look does not depend on
    the camera; each camera has its own background, colour cast, brightness,
    noise, blur and person scale. Tracklets have varying lengths (some
    shorter than 8 frames), walking poses, small translations and scale
    changes frame to frame and occasional occlusions. Every identity is seen
    by at least two cameras. In the test set, one query per (identity,
    camera) is chosen as in MARS; junk (``-1``, folder ``00-1``) and
    distractor (``0000``) tracklets are added; a few identities have exactly
    one tracklet per camera, so all their tracklets are queries and they
    only find a cross-camera match when the query tracklets are appended to
    the gallery.

    The output depends only on the arguments: the same ``seed`` gives
    byte-identical files (the ``.mat`` headers carry no creation time).

    Written files::

        out_dir/
        ├── bbox_train/<pid>/<pid>C<cam>T<tracklet>F<frame>.jpg
        ├── bbox_test/<pid>/<pid>C<cam>T<tracklet>F<frame>.jpg
        └── info/
            ├── train_name.txt, test_name.txt
            ├── tracks_train_info.mat  (key 'track_train_info', N x 4)
            ├── tracks_test_info.mat   (key 'track_test_info', N x 4)
            └── query_IDX.mat          (key 'query_IDX', 1 x Q, 1-based)

    Args:
        out_dir (str): The folder to write (becomes the ``data_root``).
        num_train_ids (int): Number of training identities. Defaults to 60.
        num_test_ids (int): Number of test identities. Defaults to 60.
        num_cams (int): Number of cameras, 2 to 6. Defaults to 6.
        cams_per_id (tuple[int, int]): Min and max number of cameras that
            see an identity (at least 2). Defaults to (2, 4).
        tracklets_per_cam (tuple[int, int]): Min and max number of tracklets
            of an identity per camera. Defaults to (1, 3).
        tracklet_len (tuple[int, int]): Min and max tracklet length.
            Defaults to (4, 40).
        short_ratio (float): Share of tracklets shorter than 8 frames (when
            ``tracklet_len`` allows it). Defaults to 0.25.
        occlusion_prob (float): Probability that a tracklet has an occluded
            run of frames. Defaults to 0.15.
        junk_ratio (float): Junk tracklets, relative to the number of test
            identity tracklets (at least one if > 0). Defaults to 0.07.
        distractor_ratio (float): Distractor tracklets, relative to the
            number of test identity tracklets (at least one if > 0).
            Defaults to 0.2.
        query_only_ratio (float): Share of test identities with exactly one
            tracklet per camera (at least one if > 0 and there are two or
            more test identities). Defaults to 0.05.
        img_size (tuple[int, int]): ``(height, width)`` of the images.
            Defaults to (128, 64).
        jpeg_quality (int): JPEG quality. Defaults to 90.
        seed (int): Random seed. Defaults to 0.
        overwrite (bool): Replace the ``bbox_train``, ``bbox_test`` and
            ``info`` folders of an existing dataset in ``out_dir``.
            Defaults to False.

    Returns:
        dict: A summary with ``out_dir``, ``seed``, ``img_size``,
        ``num_cams``, ``num_train_ids``, ``num_test_ids``,
        ``num_train_tracklets``, ``num_test_tracklets`` (all rows of the test
        table), ``num_query``, ``num_gallery`` (test rows that are neither
        queries nor junk, distractors included), ``num_junk_tracklets``,
        ``num_distractor_tracklets``, ``num_query_only_ids``,
        ``num_queries_without_gallery_match`` (queries without a
        cross-camera match among the non-query gallery), ``num_images``,
        ``time_s``, ``train_pids``, ``test_pids``, ``query_idx`` (0-based
        rows of the test table) and ``train_tracks`` / ``test_tracks``: one
        dict per row of the track tables, in order, with ``pid``, ``cam``
        (1-based), ``tracklet``, ``kind`` (``'person'``, ``'distractor'`` or
        ``'junk'``), ``is_query`` and ``names`` (file names in frame order).

    Raises:
        FileExistsError: If ``out_dir`` already holds a dataset and
            ``overwrite`` is False.
        ValueError: If the arguments are inconsistent.
    """
    t0 = time.time()
    height, width = (int(v) for v in img_size)
    if not 2 <= num_cams <= 6:
        raise ValueError(f'num_cams must be in 2..6 (MARS has 6 cameras), '
                         f'got {num_cams}.')
    if cams_per_id[0] < 2 or cams_per_id[0] > cams_per_id[1]:
        raise ValueError(f'cams_per_id must be (lo, hi) with 2 <= lo <= hi, '
                         f'got {cams_per_id}.')
    if not 1 <= tracklets_per_cam[0] <= tracklets_per_cam[1]:
        raise ValueError(f'bad tracklets_per_cam {tracklets_per_cam}.')
    if not 1 <= tracklet_len[0] <= tracklet_len[1] <= 999:
        raise ValueError(f'tracklet_len must lie in 1..999, got '
                         f'{tracklet_len}.')
    if num_train_ids < 1 or num_test_ids < 1 or \
            num_train_ids + num_test_ids > 9000:
        raise ValueError('Need 1..9000 train + test identities in total.')
    if height < 16 or width < 8:
        raise ValueError(f'img_size must be at least (16, 8), got '
                         f'{img_size}.')

    sub_dirs = [
        osp.join(out_dir, d) for d in ('bbox_train', 'bbox_test', 'info')
    ]
    if any(osp.exists(d) for d in sub_dirs):
        if not overwrite:
            raise FileExistsError(
                f'"{out_dir}" already holds a dataset; pass overwrite=True '
                '(--overwrite) to replace it.')
        for d in sub_dirs:
            if osp.isdir(d):
                shutil.rmtree(d)
    for d in sub_dirs:
        os.makedirs(d, exist_ok=True)

    if int(seed) < 0:
        raise ValueError(f'seed must be non-negative, got {seed}.')
    seed = int(seed)
    # independent streams: the plan, each camera, each person, each tracklet
    plan_rng = np.random.default_rng([seed, 1])

    # identities: sparse 4-digit ids split between train and test
    upper = min(9999, max(1500, 4 * (num_train_ids + num_test_ids)))
    pids = plan_rng.choice(
        np.arange(1, upper + 1), num_train_ids + num_test_ids, replace=False)
    train_pids = sorted(int(p) for p in pids[:num_train_ids])
    test_pids = sorted(int(p) for p in pids[num_train_ids:])

    # cameras
    look_order = plan_rng.permutation(len(_CAMERA_LOOKS))
    cameras = {
        c + 1:
        _random_camera(
            np.random.default_rng([seed, 2, c]),
            _CAMERA_LOOKS[look_order[c % len(look_order)]], height, width)
        for c in range(num_cams)
    }

    # people: one appearance per identity, from its own stream
    def person_of(pid: int) -> dict:
        return _random_person(np.random.default_rng([seed, 3, pid]))

    # ---- plan the tracklets (pid, cam) -> count
    train_plan = []
    for pid in train_pids:
        for cam, n in _plan_identity(plan_rng, num_cams, cams_per_id,
                                     tracklets_per_cam).items():
            train_plan += [(pid, cam)] * n
    n_query_only = 0
    if query_only_ratio > 0 and num_test_ids >= 2:
        n_query_only = min(num_test_ids - 1,
                           max(1, int(round(query_only_ratio * num_test_ids))))
    query_only = set(
        int(p)
        for p in plan_rng.choice(test_pids, n_query_only, replace=False))
    test_plan = []
    for pid in test_pids:
        plan = _plan_identity(
            plan_rng,
            num_cams,
            cams_per_id,
            tracklets_per_cam,
            query_only=pid in query_only,
            need_gallery=pid not in query_only)
        for cam, n in plan.items():
            test_plan += [(pid, cam)] * n
    n_person = len(test_plan)
    n_junk = int(math.ceil(junk_ratio * n_person)) if junk_ratio > 0 else 0
    n_distr = int(math.ceil(distractor_ratio *
                            n_person)) if distractor_ratio > 0 else 0
    test_plan += [(-1, int(plan_rng.integers(num_cams)) + 1)
                  for _ in range(n_junk)]
    test_plan += [(0, int(plan_rng.integers(num_cams)) + 1)
                  for _ in range(n_distr)]

    def folder(pid: int) -> str:
        return '00-1' if pid == -1 else f'{pid:04d}'

    def build_tracks(plan: List[Tuple[int, int]]) -> List[dict]:
        # MARS order: by folder name, then camera; tracklets numbered per
        # (pid, cam) from 1
        plan = sorted(plan, key=lambda pc: (folder(pc[0]), pc[1]))
        counters: Dict[Tuple[int, int], int] = {}
        lengths = _draw_lengths(plan_rng, len(plan), tracklet_len, short_ratio)
        tracks = []
        for (pid, cam), n in zip(plan, lengths):
            counters[(pid, cam)] = counters.get((pid, cam), 0) + 1
            tid = counters[(pid, cam)]
            kind = 'junk' if pid == -1 else (
                'distractor' if pid == 0 else 'person')
            tracks.append(
                dict(
                    pid=pid,
                    cam=cam,
                    tracklet=tid,
                    kind=kind,
                    is_query=False,
                    names=[
                        mars_image_name(pid, cam, tid, f)
                        for f in range(1, n + 1)
                    ]))
        return tracks

    train_tracks = build_tracks(train_plan)
    test_tracks = build_tracks(test_plan)

    # ---- one query per (identity, camera), as in MARS
    groups: Dict[Tuple[int, int], List[int]] = {}
    for row, tr in enumerate(test_tracks):
        if tr['kind'] == 'person':
            groups.setdefault((tr['pid'], tr['cam']), []).append(row)
    query_idx = sorted(
        int(rows[int(plan_rng.integers(len(rows)))])
        for _, rows in sorted(groups.items()))
    for row in query_idx:
        test_tracks[row]['is_query'] = True

    # ---- render and write the images
    sprite_cache: Dict[int, list] = {}
    num_images = 0
    for subset, tracks in (('train', train_tracks), ('test', test_tracks)):
        subset_id = 0 if subset == 'train' else 1
        for row, tr in enumerate(tracks):
            rng = np.random.default_rng([seed, 4, subset_id, row])
            if tr['kind'] == 'person':
                if tr['pid'] not in sprite_cache:
                    sprite_cache[tr['pid']] = _render_sprites(
                        person_of(tr['pid']), height, width)
                sprites = sprite_cache[tr['pid']]
            elif tr['kind'] == 'distractor' or rng.random() < 0.5:
                # a one-off person (distractor) or a fragment of one (junk)
                sprites = _render_sprites(_random_person(rng), height, width)
            else:
                sprites = None  # junk: background only
            frames = _render_tracklet(rng, sprites, cameras[tr['cam']],
                                      len(tr['names']), height, width,
                                      tr['kind'], occlusion_prob)
            img_dir = osp.join(out_dir, f'bbox_{subset}', folder(tr['pid']))
            os.makedirs(img_dir, exist_ok=True)
            for name, frame in zip(tr['names'], frames):
                ok, buf = cv2.imencode(
                    '.jpg', frame[..., ::-1],
                    [int(cv2.IMWRITE_JPEG_QUALITY),
                     int(jpeg_quality)])
                assert ok, f'JPEG encoding failed for {name}'
                with open(osp.join(img_dir, name), 'wb') as f:
                    f.write(buf.tobytes())
            num_images += len(frames)

    # ---- annotation files
    info_dir = osp.join(out_dir, 'info')
    for subset, tracks, key in (('train', train_tracks, 'track_train_info'),
                                ('test', test_tracks, 'track_test_info')):
        rows = []
        with open(osp.join(info_dir, f'{subset}_name.txt'), 'w') as f:
            start = 1
            for tr in tracks:
                f.write(''.join(n + '\n' for n in tr['names']))
                end = start + len(tr['names']) - 1
                rows.append((start, end, tr['pid'], tr['cam']))
                start = end + 1
        table = np.array(rows, np.float64).reshape(-1, 4)
        _savemat_deterministic(
            osp.join(info_dir, f'tracks_{subset}_info.mat'), {key: table})
    _savemat_deterministic(
        osp.join(info_dir, 'query_IDX.mat'),
        {'query_IDX': np.array(query_idx, np.float64).reshape(1, -1) + 1})

    # ---- statistics
    gallery_rows = [
        r for r, tr in enumerate(test_tracks)
        if not tr['is_query'] and tr['kind'] != 'junk'
    ]
    gallery_pc = {(test_tracks[r]['pid'], test_tracks[r]['cam'])
                  for r in gallery_rows}
    no_match = 0
    for r in query_idx:
        pid, cam = test_tracks[r]['pid'], test_tracks[r]['cam']
        if not any(p == pid and c != cam for p, c in gallery_pc):
            no_match += 1

    return dict(
        out_dir=out_dir,
        seed=seed,
        img_size=(height, width),
        num_cams=num_cams,
        num_train_ids=num_train_ids,
        num_test_ids=num_test_ids,
        num_train_tracklets=len(train_tracks),
        num_test_tracklets=len(test_tracks),
        num_query=len(query_idx),
        num_gallery=len(gallery_rows),
        num_junk_tracklets=n_junk,
        num_distractor_tracklets=n_distr,
        num_query_only_ids=len(query_only),
        num_queries_without_gallery_match=no_match,
        num_images=num_images,
        time_s=time.time() - t0,
        train_pids=train_pids,
        test_pids=test_pids,
        query_idx=query_idx,
        train_tracks=train_tracks,
        test_tracks=test_tracks,
    )


# ------------------------------------------------- other dataset layouts
class _TrackletRenderer:
    """Renders tracklets of people seen by synthetic cameras, from
    independent random streams ``[seed, tag, ...]`` (``tag`` separates the
    layouts), with the people and cameras of the MARS generator."""

    def __init__(self, seed: int, tag: int, num_cams: int,
                 img_size: Tuple[int, int], occlusion_prob: float) -> None:
        self.seed = int(seed)
        self.tag = int(tag)
        self.height, self.width = (int(v) for v in img_size)
        if self.height < 16 or self.width < 8:
            raise ValueError(f'img_size must be at least (16, 8), got '
                             f'{img_size}.')
        self.occlusion_prob = occlusion_prob
        look_order = np.random.default_rng([self.seed, self.tag, 1
                                            ]).permutation(len(_CAMERA_LOOKS))
        self.cameras = {
            c + 1:
            _random_camera(
                np.random.default_rng([self.seed, self.tag, 2, c]),
                _CAMERA_LOOKS[look_order[c % len(look_order)]], self.height,
                self.width)
            for c in range(num_cams)
        }
        self._sprites: Dict[int, list] = {}

    def rng(self, *keys: int) -> np.random.Generator:
        """An independent random stream for ``keys``."""
        return np.random.default_rng([self.seed, self.tag, *keys])

    def render(self, pid: int, cam: int, num_frames: int, *keys:
               int) -> List[np.ndarray]:
        """Render ``num_frames`` RGB frames of person ``pid`` in ``cam``."""
        if pid not in self._sprites:
            person = _random_person(self.rng(3, pid))
            self._sprites[pid] = _render_sprites(person, self.height,
                                                 self.width)
        return _render_tracklet(
            self.rng(4, *keys), self._sprites[pid], self.cameras[cam],
            num_frames, self.height, self.width, 'person', self.occlusion_prob)


def _write_images(items: List[Tuple[str, np.ndarray]],
                  rng: np.random.Generator,
                  jpeg_quality: int = 90) -> None:
    """Write RGB images (``.jpg`` or ``.png`` by the path) in a shuffled
    order, so that the file creation order says nothing about the frame
    order."""
    for i in rng.permutation(len(items)).tolist():
        path, img = items[i]
        os.makedirs(osp.dirname(path), exist_ok=True)
        params = []
        if path.lower().endswith('.jpg'):
            params = [int(cv2.IMWRITE_JPEG_QUALITY), int(jpeg_quality)]
        ok, buf = cv2.imencode(osp.splitext(path)[1], img[..., ::-1], params)
        assert ok, f'Encoding failed for {path}'
        with open(path, 'wb') as f:
            f.write(buf.tobytes())


def _prepare_out(paths: Sequence[str], overwrite: bool, out_dir: str) -> None:
    """Refuse (or clear, with ``overwrite``) an existing dataset."""
    if any(osp.exists(p) for p in paths):
        if not overwrite:
            raise FileExistsError(
                f'"{out_dir}" already holds a dataset; pass overwrite=True '
                'to replace it.')
        for p in paths:
            if osp.isdir(p):
                shutil.rmtree(p)
            elif osp.exists(p):
                os.remove(p)


def _check_len(tracklet_len: Tuple[int, int]) -> None:
    if not 1 <= tracklet_len[0] <= tracklet_len[1] <= 9999:
        raise ValueError(
            f'tracklet_len must lie in 1..9999, got {tracklet_len}.')


def _sparse_ids(rng: np.random.Generator, num: int, upper: int) -> List[int]:
    """``num`` distinct sorted ids in ``1 .. upper``."""
    return sorted(
        int(p)
        for p in rng.choice(np.arange(1, upper + 1), num, replace=False))


def make_synthetic_duke_video(out_dir: str,
                              num_train_ids: int = 6,
                              num_test_ids: int = 6,
                              num_distractor_ids: int = 3,
                              num_cams: int = 8,
                              cams_per_id: Tuple[int, int] = (2, 3),
                              tracklets_per_cam: Tuple[int, int] = (1, 2),
                              tracklet_len: Tuple[int, int] = (2, 12),
                              img_size: Tuple[int, int] = (64, 32),
                              occlusion_prob: float = 0.15,
                              zero_pad: bool = True,
                              jpeg_quality: int = 90,
                              seed: int = 0,
                              overwrite: bool = False) -> dict:
    """Write a synthetic dataset with the DukeMTMC-VideoReID layout.

    Read by :class:`mmdcct.datasets.DukeMTMCVideoReID`. Each test identity
    is seen by at least two cameras; exactly one of its tracklets is the
    query (in ``query/``) and the others, at least one of them in another
    camera, are in ``gallery/`` together with the tracklets of the
    distractor identities (gallery only). Frame numbers (``F``) start at 1,
    2 or later and may skip numbers, as in the release; the frames are
    written in a shuffled order.

    Written files::

        out_dir/DukeMTMC-VideoReID/{train,query,gallery}/<pid>/<tracklet>/
            <pid>_C<cam>_F<frame>_X<n>.jpg

    Args:
        out_dir (str): The folder to write (becomes the ``data_root``).
        num_train_ids (int): Training identities. Defaults to 6.
        num_test_ids (int): Query identities. Defaults to 6.
        num_distractor_ids (int): Gallery-only identities. Defaults to 3.
        num_cams (int): Cameras, 2 to 8. Defaults to 8.
        cams_per_id (tuple[int, int]): Min and max cameras per identity
            (distractors: 1 to the max). Defaults to (2, 3).
        tracklets_per_cam (tuple[int, int]): Min and max tracklets of an
            identity per camera. Defaults to (1, 2).
        tracklet_len (tuple[int, int]): Min and max tracklet length.
            Defaults to (2, 12).
        img_size (tuple[int, int]): ``(height, width)``. Defaults to
            (64, 32).
        occlusion_prob (float): Probability of an occluded run of frames.
            Defaults to 0.15.
        zero_pad (bool): Write ``F0017`` (True, as the release) or ``F17``
            (False, to test numeric frame sorting). Defaults to True.
        jpeg_quality (int): JPEG quality. Defaults to 90.
        seed (int): Random seed; the same seed gives the same files.
            Defaults to 0.
        overwrite (bool): Replace an existing ``DukeMTMC-VideoReID`` folder.
            Defaults to False.

    Returns:
        dict: ``out_dir``, ``seed``, ``num_cams``, ``train_pids``,
        ``test_pids``, ``distractor_pids``, ``num_images`` and ``tracks``:
        ``{'train' | 'query' | 'gallery': [dict(pid, cam (1-based),
        folder (path relative to out_dir), names (frame order), frames
        (F numbers))]}``, each list in the sorted folder order the dataset
        reads.

    Raises:
        FileExistsError: If the dataset exists and ``overwrite`` is False.
        ValueError: If the arguments are inconsistent.
    """
    if not 2 <= num_cams <= 8:
        raise ValueError(f'num_cams must be in 2..8, got {num_cams}.')
    if cams_per_id[0] < 2 or cams_per_id[0] > cams_per_id[1]:
        raise ValueError(f'cams_per_id must be (lo, hi) with 2 <= lo <= hi, '
                         f'got {cams_per_id}.')
    if not 1 <= tracklets_per_cam[0] <= tracklets_per_cam[1]:
        raise ValueError(f'bad tracklets_per_cam {tracklets_per_cam}.')
    _check_len(tracklet_len)
    total = num_train_ids + num_test_ids + num_distractor_ids
    if num_train_ids < 1 or num_test_ids < 1 or num_distractor_ids < 0 \
            or total > 9000:
        raise ValueError('Need >= 1 train and test identities and at most '
                         '9000 identities in total.')
    root = osp.join(out_dir, 'DukeMTMC-VideoReID')
    _prepare_out([root], overwrite, out_dir)

    ren = _TrackletRenderer(seed, 10, num_cams, img_size, occlusion_prob)
    plan_rng = ren.rng(0)
    pids = plan_rng.permutation(
        _sparse_ids(plan_rng, total, min(9999, max(1500, 4 * total))))
    train_pids = sorted(int(p) for p in pids[:num_train_ids])
    test_pids = sorted(
        int(p) for p in pids[num_train_ids:num_train_ids + num_test_ids])
    distractor_pids = sorted(
        int(p) for p in pids[num_train_ids + num_test_ids:])

    def frame_numbers(n: int) -> List[int]:
        first = int(plan_rng.choice([1, 1, 2, 3]))
        frames = []
        f = first
        for _ in range(n):
            frames.append(f)
            f += 1 + int(plan_rng.random() < 0.1)  # a few skipped numbers
        return frames

    # plan: subset -> list of (pid, cam)
    plan: Dict[str, List[Tuple[int, int]]] = dict(
        train=[], query=[], gallery=[])
    for pid in train_pids:
        for cam, n in _plan_identity(plan_rng, num_cams, cams_per_id,
                                     tracklets_per_cam).items():
            plan['train'] += [(pid, cam)] * n
    for pid in test_pids:
        cams = _plan_identity(plan_rng, num_cams, cams_per_id,
                              tracklets_per_cam)
        q_cam = sorted(cams)[int(plan_rng.integers(len(cams)))]
        plan['query'].append((pid, q_cam))
        for cam, n in cams.items():
            plan['gallery'] += [(pid, cam)] * (n - (cam == q_cam))
    for pid in distractor_pids:
        cams = _plan_identity(plan_rng, num_cams, (1, cams_per_id[1]),
                              tracklets_per_cam)
        for cam, n in cams.items():
            plan['gallery'] += [(pid, cam)] * n

    tracks: Dict[str, List[dict]] = {}
    items: List[Tuple[str, np.ndarray]] = []
    # tracklet folders numbered per identity: train on its own, query and
    # gallery together (their folders never share a number)
    counters: Dict[Tuple[bool, int], int] = {}
    for s_idx, subset in enumerate(('train', 'query', 'gallery')):
        entries = []
        for pid, cam in sorted(plan[subset]):
            key = (subset == 'train', pid)
            counters[key] = counters.get(key, 0) + 1
            entries.append((pid, cam, counters[key]))
        lens = [
            int(plan_rng.integers(tracklet_len[0], tracklet_len[1] + 1))
            for _ in entries
        ]
        records = []
        for row, ((pid, cam, tid), n) in enumerate(zip(entries, lens)):
            frames = frame_numbers(n)
            folder = osp.join('DukeMTMC-VideoReID', subset, f'{pid:04d}',
                              f'{tid:04d}')
            names = []
            for f in frames:
                x = int(plan_rng.integers(0, 100000))
                if zero_pad:
                    names.append(f'{pid:04d}_C{cam}_F{f:04d}_X{x:05d}.jpg')
                else:
                    names.append(f'{pid:04d}_C{cam}_F{f}_X{x}.jpg')
            imgs = ren.render(pid, cam, n, s_idx, row)
            items += [(osp.join(out_dir, folder, name), img)
                      for name, img in zip(names, imgs)]
            records.append(
                dict(
                    pid=pid,
                    cam=cam,
                    folder=folder,
                    names=names,
                    frames=frames))
        records.sort(key=lambda r: r['folder'])
        tracks[subset] = records
    _write_images(items, ren.rng(5), jpeg_quality)
    return dict(
        out_dir=out_dir,
        seed=int(seed),
        num_cams=num_cams,
        train_pids=train_pids,
        test_pids=test_pids,
        distractor_pids=distractor_pids,
        num_images=len(items),
        tracks=tracks)


def make_synthetic_ilids_vid(out_dir: str,
                             num_persons: int = 10,
                             tracklet_len: Tuple[int, int] = (4, 16),
                             img_size: Tuple[int, int] = (64, 32),
                             num_splits: int = 10,
                             write_split_file: bool = True,
                             occlusion_prob: float = 0.15,
                             zero_pad: bool = True,
                             seed: int = 0,
                             overwrite: bool = False) -> dict:
    """Write a synthetic dataset with the iLIDS-VID layout.

    Read by :class:`mmdcct.datasets.iLIDSVID`. Every person has one
    tracklet in each of the two cameras; the person numbers have gaps (as
    the release's 300 persons numbered up to 319); frame numbers start at a
    random offset; the frames are written in a shuffled order. The split
    file holds ``num_splits`` random permutations of ``1 .. num_persons``
    (key ``ls_set``, first half test, second half train).

    Written files::

        out_dir/
        ├── i-LIDS-VID/sequences/cam{1,2}/personNNN/camC_personNNN_FFFFF.png
        └── train-test people splits/train_test_splits_ilidsvid.mat

    Args:
        out_dir (str): The folder to write (becomes the ``data_root``).
        num_persons (int): Number of persons (>= 2). Defaults to 10.
        tracklet_len (tuple[int, int]): Min and max tracklet length.
            Defaults to (4, 16).
        img_size (tuple[int, int]): ``(height, width)``. Defaults to
            (64, 32).
        num_splits (int): Rows of ``ls_set``. Defaults to 10.
        write_split_file (bool): Write the ``.mat`` split file. Defaults to
            True.
        occlusion_prob (float): Probability of an occluded run of frames.
            Defaults to 0.15.
        zero_pad (bool): Write 5-digit frame numbers (True, as the release)
            or unpadded ones (False). Defaults to True.
        seed (int): Random seed. Defaults to 0.
        overwrite (bool): Replace an existing dataset. Defaults to False.

    Returns:
        dict: ``out_dir``, ``seed``, ``persons`` (sorted folder names),
        ``pids``, ``ls_set`` (``(num_splits, num_persons)`` int array),
        ``num_images`` and ``tracks``: ``{(person, cam): names in frame
        order}`` with ``cam`` 1 or 2.
    """
    if num_persons < 2:
        raise ValueError(f'num_persons must be >= 2, got {num_persons}.')
    _check_len(tracklet_len)
    data_dir = osp.join(out_dir, 'i-LIDS-VID')
    split_dir = osp.join(out_dir, 'train-test people splits')
    _prepare_out([data_dir, split_dir], overwrite, out_dir)

    ren = _TrackletRenderer(seed, 20, 2, img_size, occlusion_prob)
    plan_rng = ren.rng(0)
    pids = _sparse_ids(plan_rng, num_persons,
                       max(num_persons,
                           int(num_persons * 1.07) + 2))
    persons = [f'person{pid:03d}' for pid in pids]
    tracks = {}
    items = []
    for p_idx, (pid, person) in enumerate(zip(pids, persons)):
        for cam in (1, 2):
            n = int(plan_rng.integers(tracklet_len[0], tracklet_len[1] + 1))
            first = int(plan_rng.integers(0, 2000))
            names = [(f'cam{cam}_{person}_{f:05d}.png'
                      if zero_pad else f'cam{cam}_{person}_{f}.png')
                     for f in range(first, first + n)]
            folder = osp.join(data_dir, 'sequences', f'cam{cam}', person)
            imgs = ren.render(pid, cam, n, p_idx, cam)
            items += [(osp.join(folder, name), img)
                      for name, img in zip(names, imgs)]
            tracks[(person, cam)] = names
    _write_images(items, ren.rng(5))
    ls_set = np.stack([
        plan_rng.permutation(num_persons) + 1 for _ in range(num_splits)
    ]).astype(np.int64)
    if write_split_file:
        os.makedirs(split_dir, exist_ok=True)
        _savemat_deterministic(
            osp.join(split_dir, 'train_test_splits_ilidsvid.mat'),
            {'ls_set': ls_set.astype(np.float64)})
    return dict(
        out_dir=out_dir,
        seed=int(seed),
        persons=persons,
        pids=pids,
        ls_set=ls_set,
        num_images=len(items),
        tracks=tracks)


def make_synthetic_prid2011(out_dir: str,
                            num_persons: int = 12,
                            num_short: int = 2,
                            num_only_a: int = 2,
                            num_only_b: int = 3,
                            tracklet_len: Tuple[int, int] = (21, 28),
                            short_len: Tuple[int, int] = (3, 12),
                            min_frames: int = 21,
                            img_size: Tuple[int, int] = (64, 32),
                            num_splits: int = 10,
                            write_split_file: bool = True,
                            split_as_ids: bool = False,
                            occlusion_prob: float = 0.15,
                            zero_pad: bool = True,
                            seed: int = 0,
                            overwrite: bool = False) -> dict:
    """Write a synthetic dataset with the PRID-2011 multi-shot layout.

    Read by :class:`mmdcct.datasets.PRID2011`. Persons ``1 ..
    num_persons`` are seen by both cameras (the release's first 200);
    ``num_short`` of them have a sequence shorter than ``min_frames`` in one
    camera, so the standard split leaves them out (the release's 200 -> 178);
    persons ``num_persons + 1 ..`` are seen by one camera only (``cam_a``:
    ``num_only_a`` of them, ``cam_b``: ``num_only_b``). The frames are
    written in a shuffled order. The split file lists, per split, the
    eligible persons in random halves (test gets ``n // 2``), as torchreid
    writes it.

    Written files::

        out_dir/
        ├── prid_2011/multi_shot/cam_{a,b}/person_NNNN/NNNN.png
        └── splits_prid2011.json

    Args:
        out_dir (str): The folder to write (becomes the ``data_root``).
        num_persons (int): Persons seen by both cameras. Defaults to 12.
        num_short (int): Of these, persons with a short sequence in one
            camera. Defaults to 2.
        num_only_a (int): Extra persons only in ``cam_a``. Defaults to 2.
        num_only_b (int): Extra persons only in ``cam_b``. Defaults to 3.
        tracklet_len (tuple[int, int]): Length range of the long sequences
            (``>= min_frames``). Defaults to (21, 28).
        short_len (tuple[int, int]): Length range of the short sequences
            (``< min_frames``). Defaults to (3, 12).
        min_frames (int): The split's minimum length. Defaults to 21.
        img_size (tuple[int, int]): ``(height, width)``. Defaults to
            (64, 32).
        num_splits (int): Number of splits. Defaults to 10.
        write_split_file (bool): Write ``splits_prid2011.json``. Defaults to
            True.
        split_as_ids (bool): List person numbers instead of folder names in
            the split file. Defaults to False.
        occlusion_prob (float): Probability of an occluded run of frames.
            Defaults to 0.15.
        zero_pad (bool): ``0001.png`` (True, as the release) or ``1.png``.
            Defaults to True.
        seed (int): Random seed. Defaults to 0.
        overwrite (bool): Replace an existing dataset. Defaults to False.

    Returns:
        dict: ``out_dir``, ``seed``, ``persons_a`` / ``persons_b`` (sorted
        folder names per camera), ``eligible`` (sorted folder names),
        ``splits`` (list of ``dict(train=[...], test=[...])`` of folder
        names), ``num_images`` and ``tracks``: ``{(person, cam): names in
        frame order}`` with ``cam`` ``'a'`` or ``'b'``.
    """
    _check_len(tracklet_len)
    _check_len(short_len)
    if tracklet_len[0] < min_frames or short_len[1] >= min_frames:
        raise ValueError('Need tracklet_len >= min_frames > short_len.')
    if num_persons - num_short < 2 or num_short < 0:
        raise ValueError('Need at least 2 eligible persons.')
    data_dir = osp.join(out_dir, 'prid_2011')
    split_path = osp.join(out_dir, 'splits_prid2011.json')
    _prepare_out([data_dir, split_path], overwrite, out_dir)

    ren = _TrackletRenderer(seed, 30, 2, img_size, occlusion_prob)
    plan_rng = ren.rng(0)
    short = set(
        int(p) + 1
        for p in plan_rng.choice(num_persons, num_short, replace=False))
    cam_persons = {
        'a': list(range(1, num_persons + num_only_a + 1)),
        'b': list(range(1, num_persons + num_only_b + 1)),
    }
    tracks = {}
    items = []
    eligible = []
    for pid in range(1, num_persons + max(num_only_a, num_only_b) + 1):
        short_cam = 'ab'[int(plan_rng.integers(2))] if pid in short else None
        for c_idx, cam in enumerate('ab'):
            if pid not in cam_persons[cam]:
                continue
            rng_len = short_len if cam == short_cam else tracklet_len
            n = int(plan_rng.integers(rng_len[0], rng_len[1] + 1))
            person = f'person_{pid:04d}'
            names = [(f'{f:04d}.png' if zero_pad else f'{f}.png')
                     for f in range(1, n + 1)]
            folder = osp.join(data_dir, 'multi_shot', f'cam_{cam}', person)
            # persons > num_persons are different people in the 2 cameras
            who = pid if pid <= num_persons else pid + 10000 * (c_idx + 1)
            imgs = ren.render(who, c_idx + 1, n, pid, c_idx)
            items += [(osp.join(folder, name), img)
                      for name, img in zip(names, imgs)]
            tracks[(person, cam)] = names
        if pid <= num_persons and pid not in short:
            eligible.append(f'person_{pid:04d}')
    _write_images(items, ren.rng(5))
    half = len(eligible) // 2
    splits = []
    for _ in range(num_splits):
        perm = plan_rng.permutation(len(eligible))
        splits.append(
            dict(
                train=sorted(eligible[j] for j in perm[half:]),
                test=sorted(eligible[j] for j in perm[:half])))
    if write_split_file:
        if split_as_ids:
            content = [{
                k: [int(p[7:]) for p in v]
                for k, v in sp.items()
            } for sp in splits]
        else:
            content = splits
        with open(split_path, 'w') as f:
            json.dump(content, f, indent=1)
    return dict(
        out_dir=out_dir,
        seed=int(seed),
        persons_a=[f'person_{p:04d}' for p in cam_persons['a']],
        persons_b=[f'person_{p:04d}' for p in cam_persons['b']],
        eligible=eligible,
        splits=splits,
        num_images=len(items),
        tracks=tracks)

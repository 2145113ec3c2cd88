"""A procedural renderer of walking people seen by synthetic cameras.

People have distinct, camera-independent clothes and builds; cameras differ
in background, colour cast, brightness, noise, blur and person scale;
tracklets have walking poses, jitter, scale changes and occasional
occlusions. Used by the synthetic dataset writers of
:mod:`mmdcct.testing.synthetic_datasets`.
"""
import colorsys
import math
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = [
    'CAMERA_LOOKS', 'random_person', 'render_sprites', 'random_camera',
    'render_tracklet', 'TrackletRenderer'
]

# Camera looks: (per-channel RGB gain, brightness offset). Shuffled per seed
# and jittered, so that cameras differ clearly in colour cast and lighting.
CAMERA_LOOKS = (
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


def random_person(rng: np.random.Generator) -> dict:
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
        person (dict): Attributes drawn by :func:`random_person`.
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


def render_sprites(person: dict, height: int,
                   width: int) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Render the walking cycle of one person."""
    return [_render_person(person, height, width, pose) for pose in _POSES]


# ------------------------------------------------------------------- cameras
def random_camera(rng: np.random.Generator, look: tuple, height: int,
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
def render_tracklet(rng: np.random.Generator,
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


class TrackletRenderer:
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
        look_order = np.random.default_rng([self.seed, self.tag,
                                            1]).permutation(len(CAMERA_LOOKS))
        self.cameras = {
            c + 1:
            random_camera(
                np.random.default_rng([self.seed, self.tag, 2, c]),
                CAMERA_LOOKS[look_order[c % len(look_order)]], self.height,
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
            person = random_person(self.rng(3, pid))
            self._sprites[pid] = render_sprites(person, self.height,
                                                self.width)
        return render_tracklet(
            self.rng(4, *keys), self._sprites[pid], self.cameras[cam],
            num_frames, self.height, self.width, 'person', self.occlusion_prob)

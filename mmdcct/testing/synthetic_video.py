"""A synthetic video of moving coloured people and its tracks file.

:func:`write_synthetic_video` renders people moving on straight lines over
a textured background (solid-colour boxes, or the walking people of
:mod:`mmdcct.testing.renderer`) with OpenCV's ``VideoWriter`` and returns
the true box of every person in every frame; :func:`write_mot_tracks`
writes boxes in the MOTChallenge text format. :func:`make_video_tracks_demo`
writes the scene used by the tests of :mod:`mmdcct.apis.video_tracks`: a
long track, a track leaving the frame (partly, then fully outside), a
track entering from the left edge with a gap in its boxes, and a zero-area
box.

Codecs: ``'MJPG'`` in ``.avi`` is written and read by every
``opencv-python(-headless)`` wheel (its FFmpeg backend); it is lossy, so
solid colours come back within a few levels and colour edges blur by a
pixel or two. ``'FFV1'`` (``.avi``, lossless) keeps the pixels when the
build has it.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = [
    'write_synthetic_video', 'write_mot_tracks', 'make_video_tracks_demo',
    'box_at'
]


def box_at(person: dict, frame: int) -> Tuple[float, float, float, float]:
    """The ``(x, y, w, h)`` box of ``person`` in ``frame`` (1-based).

    ``person`` moves from ``xy`` (its box's top-left corner at
    ``start``) by ``velocity`` pixels per frame.
    """
    t = frame - person['start']
    x = person['xy'][0] + person['velocity'][0] * t
    y = person['xy'][1] + person['velocity'][1] * t
    h, w = person['size']
    return float(x), float(y), float(w), float(h)


def _background(height: int, width: int, rng: np.random.Generator
                ) -> np.ndarray:
    """A grey gradient with a faint texture (BGR uint8), no saturated
    colour, so that the people stand out."""
    ys = np.linspace(70, 150, height, dtype=np.float32)[:, None, None]
    img = np.repeat(ys, width, axis=1).repeat(3, axis=2)
    img += rng.normal(0, 3, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_synthetic_video(path: str,
                          people: Sequence[dict],
                          num_frames: int,
                          size: Tuple[int, int] = (240, 320),
                          fps: float = 10.0,
                          fourcc: str = 'MJPG',
                          style: str = 'solid',
                          seed: int = 0) -> Dict[int, List[tuple]]:
    """Render people moving over a background into a video file.

    Args:
        path (str): Output video (e.g. ``clip.avi``).
        people (Sequence[dict]): One dict per person: ``track_id`` (int),
            ``colour`` (RGB), ``size`` (``(h, w)`` of the box), ``start`` /
            ``end`` (first / last frame shown, 1-based, inclusive), ``xy``
            (top-left corner at ``start``) and ``velocity`` (``(dx, dy)``
            pixels per frame). Boxes may leave the frame (drawn clipped).
            Later people are drawn over earlier ones.
        num_frames (int): Frames of the video.
        size (tuple[int, int]): ``(H, W)`` of the frames. Defaults to
            ``(240, 320)``.
        fps (float): Frame rate written in the file. Defaults to 10.
        fourcc (str): Codec (see the module doc). Defaults to ``'MJPG'``.
        style (str): ``'solid'`` (a box filled with ``colour``) or
            ``'sprite'`` (a walking person of :mod:`mmdcct.testing.renderer`
            whose clothes are drawn at random, ``colour`` unused). Defaults
            to ``'solid'``.
        seed (int): Background (and sprite) seed. Defaults to 0.

    Returns:
        dict[int, list[tuple]]: Per track id, ``(frame, x, y, w, h)`` of
        every frame it is shown in (the true boxes, inside the frame or
        not).

    Raises:
        RuntimeError: If OpenCV cannot open a writer for ``fourcc``.
    """
    if style not in ('solid', 'sprite'):
        raise ValueError(f"style must be 'solid' or 'sprite', got {style!r}")
    height, width = size
    rng = np.random.default_rng(seed)
    background = _background(height, width, rng)
    sprites = {}
    if style == 'sprite':
        from .renderer import random_person, render_sprites
        for person in people:
            h, w = person['size']
            sprites[person['track_id']] = render_sprites(
                random_person(np.random.default_rng(
                    [seed, person['track_id']])), int(h), int(w))
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {fourcc!r} video {path!r} '
                           "(try fourcc='MJPG' with an .avi file).")
    boxes: Dict[int, List[tuple]] = {p['track_id']: [] for p in people}
    try:
        for frame in range(1, num_frames + 1):
            img = background.copy()
            for person in people:
                if not person['start'] <= frame <= person['end']:
                    continue
                x, y, w, h = box_at(person, frame)
                boxes[person['track_id']].append((frame, x, y, w, h))
                x1, y1 = int(np.floor(x + 0.5)), int(np.floor(y + 0.5))
                x2, y2 = x1 + int(round(w)), y1 + int(round(h))
                cx1, cy1 = max(x1, 0), max(y1, 0)
                cx2, cy2 = min(x2, width), min(y2, height)
                if cx2 <= cx1 or cy2 <= cy1:
                    continue
                if style == 'solid':
                    img[cy1:cy2, cx1:cx2] = person['colour'][::-1]  # BGR
                else:
                    cycle = sprites[person['track_id']]
                    sprite, mask = cycle[(frame // 2) % len(cycle)]
                    sub = (slice(cy1 - y1, cy2 - y1), slice(cx1 - x1,
                                                            cx2 - x1))
                    patch = img[cy1:cy2, cx1:cx2].astype(np.float32)
                    alpha = mask[sub][..., None]
                    patch = alpha * sprite[sub][..., ::-1] + (
                        1 - alpha) * patch
                    img[cy1:cy2, cx1:cx2] = np.clip(patch + 0.5, 0,
                                                    255).astype(np.uint8)
            writer.write(img)
    finally:
        writer.release()
    return boxes


def write_mot_tracks(path: str,
                     rows: Sequence[tuple],
                     conf: float = 1.0) -> str:
    """Write boxes in the MOTChallenge text format.

    One line per box, ``frame,id,x,y,w,h,conf,-1,-1,-1`` (1-based frames,
    top-left corner and size in pixels), sorted by frame then id, as
    trackers write them.

    Args:
        path (str): Output ``.txt``.
        rows (Sequence[tuple]): ``(frame, track_id, x, y, w, h)``.
        conf (float): The confidence column. Defaults to 1.

    Returns:
        str: ``path``.
    """
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        for frame, tid, x, y, w, h in sorted(rows, key=lambda r: r[:2]):
            f.write(f'{int(frame)},{int(tid)},{x:.2f},{y:.2f},{w:.2f},'
                    f'{h:.2f},{conf:.2f},-1,-1,-1\n')
    return path


#: The scene of :func:`make_video_tracks_demo` (320 x 240, 150 frames):
#: 1 (red) walks 150 frames inside the frame; 2 (green) walks out to the
#: right (partly outside from frame 30, fully from frame 48); 3 (blue)
#: walks out to the left (partly outside from frame 82) and its tracks miss
#: frames 40-44; 4 has one zero-area box.
DEMO_PEOPLE = (
    dict(track_id=1, colour=(220, 30, 30), size=(60, 30), start=1, end=150,
         xy=(10.0, 20.0), velocity=(1.5, 0.0)),
    dict(track_id=2, colour=(30, 200, 40), size=(56, 28), start=1, end=60,
         xy=(250.0, 90.0), velocity=(1.5, 0.0)),
    dict(track_id=3, colour=(40, 60, 220), size=(50, 24), start=1, end=100,
         xy=(80.0, 165.0), velocity=(-1.0, 0.0)),
)


def make_video_tracks_demo(out_dir: str,
                           fourcc: str = 'MJPG',
                           ext: str = '.avi',
                           style: str = 'solid',
                           gap: Tuple[int, int] = (40, 44),
                           people: Optional[Sequence[dict]] = None
                           ) -> dict:
    """Write the demo video and its MOT tracks file into ``out_dir``.

    Args:
        out_dir (str): Output folder.
        fourcc (str): Codec. Defaults to ``'MJPG'``.
        ext (str): Video extension. Defaults to ``'.avi'``.
        style (str): ``'solid'`` or ``'sprite'``. Defaults to ``'solid'``.
        gap (tuple[int, int]): Frames (inclusive) of track 3 left out of
            the tracks file. Defaults to ``(40, 44)``.
        people (Sequence[dict], optional): Replaces :data:`DEMO_PEOPLE`.

    Returns:
        dict: ``video`` and ``tracks`` (paths), ``size`` (``(H, W)``),
        ``num_frames``, ``people`` and ``boxes`` (per track id, the
        ``(frame, x, y, w, h)`` written to the tracks file).
    """
    people = [dict(p) for p in (people or DEMO_PEOPLE)]
    size, num_frames = (240, 320), 150
    video = osp.join(out_dir, 'clip' + ext)
    boxes = write_synthetic_video(
        video, people, num_frames, size=size, fourcc=fourcc, style=style)
    if 3 in boxes:
        boxes[3] = [b for b in boxes[3] if not gap[0] <= b[0] <= gap[1]]
    boxes[4] = [(10, 100.0, 100.0, 0.0, 40.0)]
    rows = [(b[0], tid, *b[1:]) for tid, track in boxes.items()
            for b in track]
    tracks = write_mot_tracks(osp.join(out_dir, 'clip.txt'), rows)
    return dict(
        video=video,
        tracks=tracks,
        size=size,
        num_frames=num_frames,
        people=people,
        boxes=boxes)

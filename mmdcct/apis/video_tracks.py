"""Tracklets from a video and its tracks (MOTChallenge text format).

A tracker run on a video writes one line per box,
``frame, id, x, y, w, h, conf, ...`` (MOTChallenge format: 1-based frame
numbers, the box's top-left corner and size in pixels; further columns
are ignored). This module reads such a file, crops every box from the video
with OpenCV, cuts each track into tracklets and embeds them into a
:class:`~mmdcct.apis.GalleryIndex`::

    >>> from mmdcct.apis import VideoReIDInferencer, index_video_tracks
    >>> inferencer = VideoReIDInferencer(CONFIG, CHECKPOINT)
    >>> index, stats = index_video_tracks(inferencer, 'clip.mp4',
    ...                                   'clip.txt', max_tracklet_len=64)
    >>> index.save('work_dirs/clip_gallery')

Boxes: pixel coordinates from 0 (what detectors and trackers write),
rounded to whole pixels; a box partly outside the frame is clipped to it, a
box fully outside or of zero area is skipped (counted in the stats), as
are boxes of frames after the end of the video. Tracklets: a track is cut
where frames are missing (more than ``max_gap`` frames in a row, skipped
boxes included) and into consecutive pieces of at most
``max_tracklet_len`` frames. The crops of a tracklet are resized to one
size (the median box size of the tracklet, or ``crop_size``), RGB.

The video is read once, front to back; only the crops of unfinished
tracklets are held in memory.
"""
import os
import os.path as osp
import re
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple
from typing import Union

import cv2
import numpy as np

__all__ = [
    'read_mot_tracks', 'plan_tracklets', 'iter_tracklet_crops',
    'crop_track_tracklets', 'index_video_tracks', 'find_tracks_file',
    'video_frame_size'
]

_SEP = re.compile(r'[,\s]+')


def _integral(value: float) -> bool:
    return np.isfinite(value) and float(value).is_integer()


def read_mot_tracks(path: str,
                    min_conf: Optional[float] = None) -> List[dict]:
    """Read a MOTChallenge tracks file.

    Lines are ``frame, id, x, y, w, h[, conf, ...]`` separated by commas
    (or white space); blank lines and lines starting with ``#`` are
    skipped.

    Args:
        path (str): The tracks file.
        min_conf (float, optional): Drop boxes whose 7th column (the
            confidence) is below this. Defaults to None (keep all).

    Returns:
        list[dict]: One per track, by track id: ``track_id`` (int),
        ``frames`` (int64 ``(N,)``, ascending, 1-based), ``boxes``
        (float64 ``(N, 4)``, ``x, y, w, h``) and ``lines`` (the line
        numbers).

    Raises:
        FileNotFoundError: If ``path`` is missing.
        ValueError: On a malformed line (naming the file, the line number
            and the line), a repeated (frame, id) pair, or no box at all.
    """
    path = os.fspath(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'Tracks file {path!r} does not exist.')
    tracks: Dict[int, Dict[int, Tuple[int, List[float]]]] = {}
    with open(path, encoding='utf-8', errors='replace') as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith('#'):
                continue
            where = f'{path}:{lineno}: {line!r}'
            fields = [x for x in _SEP.split(line) if x]
            if len(fields) < 6:
                raise ValueError(
                    f'{where}: expected at least 6 fields (frame, id, x, y, '
                    f'w, h[, conf, ...], the MOTChallenge format), got '
                    f'{len(fields)}.')
            try:
                values = [float(x) for x in fields[:7]]
            except ValueError:
                raise ValueError(f'{where}: a field is not a number (frame, '
                                 'id, x, y, w, h, conf).') from None
            frame, tid = values[0], values[1]
            if not all(np.isfinite(values[:6])):
                raise ValueError(f'{where}: a field is not finite.')
            if not _integral(frame) or frame < 1:
                raise ValueError(
                    f'{where}: the frame number must be an integer >= 1 '
                    '(MOTChallenge frames are 1-based); for 0-based '
                    'numbers add 1 to the first column.')
            if not _integral(tid) or tid < 0:
                raise ValueError(
                    f'{where}: the track id must be an integer >= 0 (a '
                    'detections file, with id -1, has no tracks: run a '
                    'tracker first).')
            if min_conf is not None and len(values) > 6 \
                    and values[6] < min_conf:
                continue
            track = tracks.setdefault(int(tid), {})
            if int(frame) in track:
                raise ValueError(
                    f'{where}: track {int(tid)} already has a box in frame '
                    f'{int(frame)} (line {track[int(frame)][0]}).')
            track[int(frame)] = (lineno, values[2:6])
    if not tracks:
        raise ValueError(f'Tracks file {path!r} holds no box line '
                         '(frame, id, x, y, w, h, ...).')
    out = []
    for tid in sorted(tracks):
        frames = sorted(tracks[tid])
        out.append(
            dict(
                track_id=tid,
                frames=np.array(frames, dtype=np.int64),
                boxes=np.array([tracks[tid][f][1] for f in frames],
                               dtype=np.float64).reshape(-1, 4),
                lines=[tracks[tid][f][0] for f in frames]))
    return out


def _clip_box(box: Sequence[float], height: int,
              width: int) -> Tuple[Optional[Tuple[int, int, int, int]],
                                   str]:
    """``x, y, w, h`` -> clipped ``(x1, y1, x2, y2)`` and ``'inside'`` /
    ``'clipped'``, or ``(None, 'empty' | 'outside')``."""
    x, y, w, h = box
    if not (w > 0 and h > 0):
        return None, 'empty'
    x1, y1 = int(np.floor(x + 0.5)), int(np.floor(y + 0.5))
    x2, y2 = int(np.floor(x + w + 0.5)), int(np.floor(y + h + 0.5))
    if x2 <= x1 or y2 <= y1:
        return None, 'empty'
    cx1, cy1 = max(x1, 0), max(y1, 0)
    cx2, cy2 = min(x2, width), min(y2, height)
    if cx2 <= cx1 or cy2 <= cy1:
        return None, 'outside'
    state = 'inside' if (cx1, cy1, cx2, cy2) == (x1, y1, x2, y2) \
        else 'clipped'
    return (cx1, cy1, cx2, cy2), state


def plan_tracklets(tracks: Sequence[dict],
                   frame_size: Tuple[int, int],
                   max_tracklet_len: int = 64,
                   max_gap: int = 0,
                   min_len: int = 1) -> Tuple[List[dict], Dict[str, int]]:
    """Clip the boxes and cut the tracks into tracklets.

    Args:
        tracks (Sequence[dict]): :func:`read_mot_tracks` output.
        frame_size (tuple[int, int]): ``(H, W)`` of the video.
        max_tracklet_len (int): Frames per tracklet at most. Defaults to 64.
        max_gap (int): Missing frames in a row that a tracklet bridges
            (0: any missing frame cuts it). Defaults to 0.
        min_len (int): Tracklets with fewer frames are dropped. Defaults
            to 1.

    Returns:
        tuple[list[dict], dict]: The tracklets in (track, frame) order:
        ``track_id``, ``frames`` (list of int), ``boxes`` (list of clipped
        ``(x1, y1, x2, y2)``, end-exclusive pixels); and counts:
        ``boxes``, ``clipped``, ``skipped_outside``, ``skipped_empty``,
        ``dropped_short`` (tracklets).
    """
    for name, value, low in (('max_tracklet_len', max_tracklet_len, 1),
                             ('max_gap', max_gap, 0), ('min_len', min_len,
                                                       1)):
        if int(value) != value or value < low:
            raise ValueError(f'{name} must be an int >= {low}, got {value!r}')
    height, width = frame_size
    stats = dict(boxes=0, clipped=0, skipped_outside=0, skipped_empty=0,
                 dropped_short=0)
    out = []
    for track in tracks:
        kept: List[Tuple[int, tuple]] = []
        for frame, box in zip(track['frames'].tolist(), track['boxes']):
            stats['boxes'] += 1
            clipped, state = _clip_box(box, height, width)
            if clipped is None:
                stats[f'skipped_{state}'] += 1
                continue
            stats['clipped'] += state == 'clipped'
            kept.append((frame, clipped))
        runs: List[List[Tuple[int, tuple]]] = []
        for item in kept:
            if runs and item[0] - runs[-1][-1][0] <= max_gap + 1:
                runs[-1].append(item)
            else:
                runs.append([item])
        for run in runs:
            for start in range(0, len(run), max_tracklet_len):
                piece = run[start:start + max_tracklet_len]
                if len(piece) < min_len:
                    stats['dropped_short'] += 1
                    continue
                out.append(
                    dict(
                        track_id=track['track_id'],
                        frames=[p[0] for p in piece],
                        boxes=[p[1] for p in piece]))
    return out, stats


def _open_video(path: str) -> Tuple[cv2.VideoCapture, np.ndarray]:
    """Open a video and read its first frame (BGR)."""
    path = os.fspath(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'Video {path!r} does not exist.')
    cap = cv2.VideoCapture(path)
    ok, frame = (cap.read() if cap.isOpened() else (False, None))
    if not ok or frame is None:
        cap.release()
        raise ValueError(
            f'Cannot read any frame from video {path!r}: it is empty, not a '
            "video, or in a codec this OpenCV build's FFmpeg cannot decode "
            '(convert it, e.g. `ffmpeg -i IN -c:v mjpeg OUT.avi`).')
    return cap, frame


def video_frame_size(path: str) -> Tuple[int, int]:
    """``(H, W)`` of a video's frames (its first frame is decoded)."""
    cap, frame = _open_video(path)
    cap.release()
    return frame.shape[:2]


def _crop_size(boxes: Sequence[tuple]) -> Tuple[int, int]:
    """The median ``(h, w)`` of clipped boxes."""
    arr = np.asarray(boxes, dtype=np.float64)
    h = np.median(arr[:, 3] - arr[:, 1])
    w = np.median(arr[:, 2] - arr[:, 0])
    return max(1, int(round(h))), max(1, int(round(w)))


def iter_tracklet_crops(video: str,
                        tracklets: Sequence[dict],
                        crop_size: Optional[Tuple[int, int]] = None,
                        stats: Optional[Dict[str, int]] = None
                        ) -> Iterator[dict]:
    """Read a video once and yield each tracklet with its crops as soon as
    its last frame is read.

    Args:
        video (str): The video file.
        tracklets (Sequence[dict]): :func:`plan_tracklets` output.
        crop_size (tuple[int, int], optional): ``(h, w)`` of every crop.
            Defaults to None (the median box of each tracklet).
        stats (dict, optional): Receives ``beyond_video`` (boxes in frames
            after the video's end), ``dropped_beyond`` (tracklets with no
            frame in the video) and ``video_frames_read``.

    Yields:
        dict: The tracklet's keys, with ``frames`` / ``boxes`` cut to the
        frames read and ``crops`` (``(T, h, w, 3)`` RGB uint8).
    """
    stats = {} if stats is None else stats
    stats.setdefault('beyond_video', 0)
    stats.setdefault('dropped_beyond', 0)
    at_frame: Dict[int, List[Tuple[int, int]]] = {}
    ends: Dict[int, List[int]] = {}
    sizes = []
    for i, t in enumerate(tracklets):
        for j, frame in enumerate(t['frames']):
            at_frame.setdefault(frame, []).append((i, j))
        ends.setdefault(t['frames'][-1], []).append(i)
        sizes.append(tuple(crop_size) if crop_size else _crop_size(t['boxes']))
    pending: Dict[int, List[np.ndarray]] = {}
    last = max(ends) if ends else 0
    cap, img = _open_video(video)
    frame = 1
    try:
        while img is not None and frame <= last:
            for i, j in at_frame.get(frame, ()):
                x1, y1, x2, y2 = tracklets[i]['boxes'][j]
                crop = img[y1:y2, x1:x2]
                h, w = sizes[i]
                if crop.shape[:2] != (h, w):
                    crop = cv2.resize(crop, (w, h),
                                      interpolation=cv2.INTER_LINEAR)
                pending.setdefault(i, []).append(
                    cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
            for i in ends.get(frame, ()):
                crops = pending.pop(i)
                yield dict(tracklets[i], crops=np.stack(crops))
            ok, img = cap.read()
            if ok:
                frame += 1
            else:
                img = None
    finally:
        cap.release()
    stats['video_frames_read'] = frame
    # the video ended before these tracklets did
    for i in sorted({i for f, items in ends.items() if f > frame
                     for i in items}):
        t = tracklets[i]
        n = len(pending.get(i, []))
        stats['beyond_video'] += len(t['frames']) - n
        if n == 0:
            stats['dropped_beyond'] += 1
            continue
        yield dict(
            t,
            frames=t['frames'][:n],
            boxes=t['boxes'][:n],
            crops=np.stack(pending.pop(i)))


def find_tracks_file(video: str) -> str:
    """The tracks file of a video: ``<video without extension>.txt``.

    Raises:
        FileNotFoundError: Naming the file looked for.
    """
    path = osp.splitext(os.fspath(video))[0] + '.txt'
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'No tracks file given for video {video!r} and {path!r} does '
            'not exist: pass the tracker output (MOTChallenge text format) '
            'with --tracks.')
    return path


def _load_tracks(tracks: Union[str, Sequence[dict]],
                 min_conf: Optional[float]) -> List[dict]:
    if isinstance(tracks, (str, os.PathLike)):
        return read_mot_tracks(os.fspath(tracks), min_conf)
    return list(tracks)


def crop_track_tracklets(video: str,
                         tracks: Union[str, Sequence[dict]],
                         max_tracklet_len: int = 64,
                         max_gap: int = 0,
                         min_len: int = 1,
                         crop_size: Optional[Tuple[int, int]] = None,
                         min_conf: Optional[float] = None
                         ) -> Tuple[List[dict], Dict[str, int]]:
    """All tracklets of a video with their crops (see the module doc).

    Args:
        video (str): The video file.
        tracks (str | Sequence[dict]): The tracks file, or
            :func:`read_mot_tracks` output.
        max_tracklet_len (int): Frames per tracklet at most. Defaults to 64.
        max_gap (int): Missing frames a tracklet bridges. Defaults to 0.
        min_len (int): Shortest tracklet kept. Defaults to 1.
        crop_size (tuple[int, int], optional): ``(h, w)`` of the crops.
            Defaults to None (per tracklet, its median box).
        min_conf (float, optional): See :func:`read_mot_tracks`.

    Returns:
        tuple[list[dict], dict]: Tracklets in order of their last frame
        (``track_id``, ``frames``, ``boxes``, ``crops``) and the counts of
        :func:`plan_tracklets` and :func:`iter_tracklet_crops` plus
        ``tracks`` and ``tracklets``.
    """
    tracks = _load_tracks(tracks, min_conf)
    planned, stats = plan_tracklets(tracks, video_frame_size(video),
                                    max_tracklet_len, max_gap, min_len)
    out = list(iter_tracklet_crops(video, planned, crop_size, stats))
    stats.update(tracks=len(tracks), tracklets=len(out))
    return out, stats


def _entry(video: str, tracklet: dict, index: int) -> dict:
    """GalleryIndex metadata of one tracklet."""
    start, end = tracklet['frames'][0], tracklet['frames'][-1]
    video = osp.abspath(video)
    return dict(
        path=video,
        name=f'{video}/track_{tracklet["track_id"]}/{start}-{end}',
        pid=None,
        camid=None,
        track_id=int(tracklet['track_id']),
        start_frame=int(start),
        end_frame=int(end),
        num_frames=len(tracklet['frames']),
        tracklet=index)


def index_video_tracks(inferencer: Any,
                       video: str,
                       tracks: Union[str, Sequence[dict]],
                       max_tracklet_len: int = 64,
                       max_gap: int = 0,
                       min_len: int = 1,
                       crop_size: Optional[Tuple[int, int]] = None,
                       min_conf: Optional[float] = None,
                       batch_size: int = 8,
                       chunk: int = 256,
                       progress: bool = False) -> Tuple[Any, Dict[str, Any]]:
    """Embed the tracklets of a video's tracks into a gallery index.

    Args:
        inferencer (VideoReIDInferencer): Embeds the crops (arrays).
        video (str): The video file.
        tracks (str | Sequence[dict]): The tracks file or
            :func:`read_mot_tracks` output.
        max_tracklet_len (int): Frames per tracklet at most. Defaults to 64.
        max_gap (int): Missing frames a tracklet bridges. Defaults to 0.
        min_len (int): Shortest tracklet kept. Defaults to 1.
        crop_size (tuple[int, int], optional): ``(h, w)`` of the crops.
            Defaults to None (per tracklet, its median box).
        min_conf (float, optional): See :func:`read_mot_tracks`.
        batch_size (int): Tracklets per forward. Defaults to 8.
        chunk (int): Tracklets held before they are embedded (bounds the
            memory). Defaults to 256.
        progress (bool): Print a progress bar per chunk. Defaults to False.

    Returns:
        tuple[GalleryIndex, dict]: The index, one entry per tracklet sorted
        by (track id, first frame), with metadata ``track_id``,
        ``start_frame`` / ``end_frame`` (1-based, inclusive),
        ``num_frames``, ``tracklet`` (its number within the track),
        ``path`` (the video) and ``name`` (``<video>/track_<id>/<start>-
        <end>``); ``info`` records the feature mode, the video, the tracks
        file and the cutting parameters. And the counts (see
        :func:`crop_track_tracklets`).

    Raises:
        ValueError: If no tracklet is left to embed.
    """
    from .gallery import GalleryIndex
    tracks_list = _load_tracks(tracks, min_conf)
    planned, stats = plan_tracklets(tracks_list, video_frame_size(video),
                                    max_tracklet_len, max_gap, min_len)
    feats, metas, batch = [], [], []

    def flush():
        feats.append(
            inferencer.extract([t['crops'] for t in batch],
                               batch_size=batch_size,
                               progress=progress))
        metas.extend(
            dict(track_id=t['track_id'], frames=t['frames']) for t in batch)
        batch.clear()

    for tracklet in iter_tracklet_crops(video, planned, crop_size, stats):
        batch.append(tracklet)
        if len(batch) >= chunk:
            flush()
    if batch:
        flush()
    stats.update(tracks=len(tracks_list), tracklets=len(metas))
    if not metas:
        raise ValueError(
            f'No tracklet to embed from video {video!r}: the {stats["boxes"]}'
            f' boxes of its tracks are outside the frame, empty or after '
            f'the end of the video ({stats}).')
    features = np.concatenate(feats)
    order = sorted(range(len(metas)),
                   key=lambda i: (metas[i]['track_id'],
                                  metas[i]['frames'][0]))
    entries, counter = [], {}
    for i in order:
        tid = metas[i]['track_id']
        entries.append(_entry(video, metas[i], counter.get(tid, 0)))
        counter[tid] = counter.get(tid, 0) + 1
    info = GalleryIndex._inferencer_info(inferencer)
    info.update(
        video=osp.abspath(video),
        tracks=osp.abspath(tracks) if isinstance(tracks,
                                                 (str, os.PathLike)) else None,
        max_tracklet_len=max_tracklet_len,
        max_gap=max_gap,
        min_len=min_len,
        crop_size=list(crop_size) if crop_size else None,
        stats=dict(stats))
    return GalleryIndex(features[order], entries, info=info), stats

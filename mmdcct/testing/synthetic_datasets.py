"""Deterministic generators of small synthetic datasets in the layouts of
MARS, DukeMTMC-VideoReID, iLIDS-VID, PRID-2011 and LS-VID.

The MARS tree is a drop-in replacement of MARS for demos, tests and
smoke runs (``MARS(data_root=out_dir)`` reads it): people with distinct,
camera-independent clothes walk through cameras that differ in background,
colour cast, brightness, noise and blur; tracklets have varying lengths,
frame-to-frame jitter and occasional occlusions; the test set holds junk
(``-1``) and distractor (``0``) tracklets and exactly one query per
(identity, camera), and a few identities appear only as queries.

:func:`make_synthetic_duke_video`, :func:`make_synthetic_ilids_vid`,
:func:`make_synthetic_prid2011` and :func:`make_synthetic_ls_vid` write the
other layouts with the same people and cameras (frames written in a shuffled
order).
"""
import io
import json
import math
import os
import os.path as osp
import shutil
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar
from scipy.io import savemat

from .renderer import (CAMERA_LOOKS, TrackletRenderer, random_camera,
                       random_person, render_sprites, render_tracklet)

__all__ = [
    'make_synthetic_mars', 'mars_image_name', 'make_synthetic_duke_video',
    'make_synthetic_ilids_vid', 'make_synthetic_prid2011',
    'make_synthetic_ls_vid'
]


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
                        overwrite: bool = False,
                        progress: Optional[bool] = None) -> dict:
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
        progress (bool, optional): Show a progress bar on stderr (one step
            per tracklet written). Defaults to None: shown when stderr is a
            terminal. The files do not depend on it.

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
    look_order = plan_rng.permutation(len(CAMERA_LOOKS))
    cameras = {
        c + 1:
        random_camera(
            np.random.default_rng([seed, 2, c]),
            CAMERA_LOOKS[look_order[c % len(look_order)]], height, width)
        for c in range(num_cams)
    }

    # people: one appearance per identity, from its own stream
    def person_of(pid: int) -> dict:
        return random_person(np.random.default_rng([seed, 3, pid]))

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
    if progress is None:
        progress = sys.stderr.isatty()
    bar = ProgressBar(
        len(train_tracks) + len(test_tracks),
        file=sys.stderr) if progress else None
    for subset, tracks in (('train', train_tracks), ('test', test_tracks)):
        subset_id = 0 if subset == 'train' else 1
        for row, tr in enumerate(tracks):
            rng = np.random.default_rng([seed, 4, subset_id, row])
            if tr['kind'] == 'person':
                if tr['pid'] not in sprite_cache:
                    sprite_cache[tr['pid']] = render_sprites(
                        person_of(tr['pid']), height, width)
                sprites = sprite_cache[tr['pid']]
            elif tr['kind'] == 'distractor' or rng.random() < 0.5:
                # a one-off person (distractor) or a fragment of one (junk)
                sprites = render_sprites(random_person(rng), height, width)
            else:
                sprites = None  # junk: background only
            frames = render_tracklet(rng, sprites, cameras[tr['cam']],
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
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.file.write('\n')
        bar.file.flush()

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

    ren = TrackletRenderer(seed, 10, num_cams, img_size, occlusion_prob)
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

    ren = TrackletRenderer(seed, 20, 2, img_size, occlusion_prob)
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

    ren = TrackletRenderer(seed, 30, 2, img_size, occlusion_prob)
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


def _save_mat_v73(path: str, key: str, array: np.ndarray) -> None:
    """Write one ``double`` array as MATLAB v7.3 does: an HDF5 file with a
    512-byte user block starting with the MAT-file header, and no creation
    times (the same content gives byte-identical files)."""
    import h5py
    with h5py.File(path, 'w', userblock_size=512) as f:
        dset = f.create_dataset(
            key, data=np.asarray(array, np.float64), track_times=False)
        dset.attrs['MATLAB_class'] = np.bytes_('double')
    text = b'MATLAB 7.3 MAT-file, written by mmdcct make_synthetic_ls_vid'
    header = text.ljust(116, b' ') + b'\x00' * 8 + b'\x00\x02IM'
    with open(path, 'r+b') as f:
        f.write(header)


def make_synthetic_ls_vid(out_dir: str,
                          num_train_ids: int = 6,
                          num_test_ids: int = 6,
                          num_distractor_ids: int = 2,
                          num_junk: int = 2,
                          num_cams: int = 15,
                          cams_per_id: Tuple[int, int] = (2, 3),
                          tracklets_per_cam: Tuple[int, int] = (1, 2),
                          queries_per_id: Tuple[int, int] = (1, 2),
                          tracklet_len: Tuple[int, int] = (2, 12),
                          img_size: Tuple[int, int] = (64, 32),
                          list_dir: str = 'list_sequence',
                          query_shape: str = 'row',
                          occlusion_prob: float = 0.15,
                          jpeg_quality: int = 90,
                          seed: int = 0,
                          overwrite: bool = False) -> dict:
    """Write a synthetic dataset with the LS-VID layout (needs h5py).

    Read by :class:`mmdcct.datasets.LSVID`. Each test identity is seen by at
    least two cameras and has ``queries_per_id`` query tracklets in distinct
    cameras (at least one camera keeps all its tracklets in the gallery);
    distractor identities appear in the gallery only; junk tracklets (pid
    ``-1``) are listed in the test list. A tracklet's frames share the name
    prefix listed for it, ``<pid>_<session>_<cam>_<tracklet>_``, and several
    tracklets share a folder; the frames are written in a shuffled order.

    Written files (``out_dir`` is the ``LS-VID`` folder)::

        out_dir/
        ├── <list_dir>/list_seq_train.txt, list_seq_test.txt
        ├── test/data/info_test.mat   (MATLAB v7.3, 'query': 1-based rows)
        └── tracklet_{train,test}/<pid>/
                <pid>_<session>_<cam>_<tracklet>_<frame>.jpg

    Args:
        out_dir (str): The folder to write (becomes the ``data_root``).
        num_train_ids (int): Training identities. Defaults to 6.
        num_test_ids (int): Query identities. Defaults to 6.
        num_distractor_ids (int): Gallery-only identities. Defaults to 2.
        num_junk (int): Junk (pid ``-1``) test tracklets. Defaults to 2.
        num_cams (int): Cameras, 2 to 15. Defaults to 15.
        cams_per_id (tuple[int, int]): Min and max cameras per identity
            (distractors: 1 to the max). Defaults to (2, 3).
        tracklets_per_cam (tuple[int, int]): Min and max tracklets of an
            identity per camera. Defaults to (1, 2).
        queries_per_id (tuple[int, int]): Min and max query tracklets of a
            test identity (capped at its number of cameras minus one).
            Defaults to (1, 2).
        tracklet_len (tuple[int, int]): Min and max tracklet length.
            Defaults to (2, 12).
        img_size (tuple[int, int]): ``(height, width)``. Defaults to
            (64, 32).
        list_dir (str): The folder of the lists, relative to ``out_dir``
            (``'list_sequence'``, ``'info/list_sequence'`` or ``'info'``).
            Defaults to ``'list_sequence'``.
        query_shape (str): Store ``query`` with shape ``(1, Q)``
            (``'row'``) or ``(Q, 1)`` (``'column'``). Defaults to ``'row'``.
        occlusion_prob (float): Probability of an occluded run of frames.
            Defaults to 0.15.
        jpeg_quality (int): JPEG quality. Defaults to 90.
        seed (int): Random seed; the same seed gives the same files.
            Defaults to 0.
        overwrite (bool): Replace an existing dataset. Defaults to False.

    Returns:
        dict: ``out_dir``, ``seed``, ``num_cams``, ``train_pids``,
        ``test_pids``, ``distractor_pids``, ``num_images``, ``query_rows``
        (0-based rows of the test list, in file order) and ``tracks``:
        ``{'train' | 'test': [dict(pid, cam (1-based), prefix (as listed),
        names (frame order))]}``, each list in the order of its list file.

    Raises:
        FileExistsError: If the dataset exists and ``overwrite`` is False.
        ValueError: If the arguments are inconsistent.
    """
    if not 2 <= num_cams <= 15:
        raise ValueError(f'num_cams must be in 2..15, got {num_cams}.')
    if cams_per_id[0] < 2 or cams_per_id[0] > cams_per_id[1]:
        raise ValueError(f'cams_per_id must be (lo, hi) with 2 <= lo <= hi, '
                         f'got {cams_per_id}.')
    if not 1 <= tracklets_per_cam[0] <= tracklets_per_cam[1]:
        raise ValueError(f'bad tracklets_per_cam {tracklets_per_cam}.')
    if not 1 <= queries_per_id[0] <= queries_per_id[1]:
        raise ValueError(f'bad queries_per_id {queries_per_id}.')
    if query_shape not in ('row', 'column'):
        raise ValueError(f'query_shape must be "row" or "column", got '
                         f'"{query_shape}".')
    _check_len(tracklet_len)
    total = num_train_ids + num_test_ids + num_distractor_ids
    if num_train_ids < 1 or num_test_ids < 1 or num_distractor_ids < 0 \
            or num_junk < 0 or total > 9000:
        raise ValueError('Need >= 1 train and test identities and at most '
                         '9000 identities in total.')
    paths = [
        osp.join(out_dir, d)
        for d in ('tracklet_train', 'tracklet_test', 'test', list_dir)
    ]
    _prepare_out(paths, overwrite, out_dir)

    ren = TrackletRenderer(seed, 40, num_cams, img_size, occlusion_prob)
    plan_rng = ren.rng(0)
    pids = plan_rng.permutation(
        _sparse_ids(plan_rng, total, min(9999, max(1500, 4 * total))))
    train_pids = sorted(int(p) for p in pids[:num_train_ids])
    test_pids = sorted(
        int(p) for p in pids[num_train_ids:num_train_ids + num_test_ids])
    distractor_pids = sorted(
        int(p) for p in pids[num_train_ids + num_test_ids:])

    # plan: subset -> list of (pid, cam, is_query)
    plan: Dict[str, List[Tuple[int, int, bool]]] = dict(train=[], test=[])
    for pid in train_pids:
        for cam, n in _plan_identity(plan_rng, num_cams, cams_per_id,
                                     tracklets_per_cam).items():
            plan['train'] += [(pid, cam, False)] * n
    for pid in test_pids:
        cams = _plan_identity(plan_rng, num_cams, cams_per_id,
                              tracklets_per_cam)
        n_query = min(
            len(cams) - 1,
            int(plan_rng.integers(queries_per_id[0], queries_per_id[1] + 1)))
        q_cams = set(
            int(c)
            for c in plan_rng.choice(sorted(cams), n_query, replace=False))
        for cam, n in cams.items():
            plan['test'] += [(pid, cam, cam in q_cams)]
            plan['test'] += [(pid, cam, False)] * (n - 1)
    for pid in distractor_pids:
        for cam, n in _plan_identity(plan_rng, num_cams, (1, cams_per_id[1]),
                                     tracklets_per_cam).items():
            plan['test'] += [(pid, cam, False)] * n
    plan['test'] += [(-1, int(plan_rng.integers(num_cams)) + 1, False)
                     for _ in range(num_junk)]

    tracks: Dict[str, List[dict]] = {}
    items: List[Tuple[str, np.ndarray]] = []
    for s_idx, subset in enumerate(('train', 'test')):
        records = []
        counters: Dict[int, int] = {}
        for row, (pid, cam, is_query) in enumerate(plan[subset]):
            counters[pid] = counters.get(pid, 0) + 1
            written = max(pid, 0)  # junk lies in the 0000 folder
            session = int(plan_rng.integers(0, 3))
            folder = f'tracklet_{subset}/{written:04d}'
            prefix = (f'{folder}/{written:04d}_{session:02d}_{cam:04d}_'
                      f'{counters[pid]:04d}_')
            n = int(plan_rng.integers(tracklet_len[0], tracklet_len[1] + 1))
            first = int(plan_rng.integers(0, 500))
            names = [
                osp.basename(prefix) + f'{f:05d}.jpg'
                for f in range(first, first + n)
            ]
            # junk: people of their own, none of them an identity
            who = pid if pid >= 0 else 100000 + row
            imgs = ren.render(who, cam, n, s_idx, row)
            items += [(osp.join(out_dir, folder, name), img)
                      for name, img in zip(names, imgs)]
            records.append(
                dict(
                    pid=pid,
                    cam=cam,
                    prefix=prefix,
                    names=names,
                    is_query=is_query))
        records.sort(key=lambda r: r['prefix'])
        tracks[subset] = records
    query_rows = [r for r, t in enumerate(tracks['test']) if t['is_query']]
    _write_images(items, ren.rng(5), jpeg_quality)

    os.makedirs(osp.join(out_dir, list_dir), exist_ok=True)
    for subset in ('train', 'test'):
        with open(osp.join(out_dir, list_dir, f'list_seq_{subset}.txt'),
                  'w') as f:
            f.writelines(f'{t["prefix"]} {t["pid"]}\n' for t in tracks[subset])
    os.makedirs(osp.join(out_dir, 'test', 'data'), exist_ok=True)
    query = np.array(query_rows, np.float64) + 1
    _save_mat_v73(
        osp.join(out_dir, 'test', 'data', 'info_test.mat'), 'query',
        query.reshape(1, -1) if query_shape == 'row' else query.reshape(-1, 1))
    return dict(
        out_dir=out_dir,
        seed=int(seed),
        num_cams=num_cams,
        train_pids=train_pids,
        test_pids=test_pids,
        distractor_pids=distractor_pids,
        num_images=len(items),
        query_rows=query_rows,
        tracks=tracks)

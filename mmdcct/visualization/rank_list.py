"""Rank lists of queries: which gallery tracklets come first, and drawing.

Shared by ``tools/visualization/vis_ranks.py`` and
:class:`~mmdcct.engine.VideoReIDVisualizationHook`.

Cameras: the ``camid`` of data samples and dataset infos is 0-based (the
datasets count from 0); every label drawn or written here shows it 1-based,
as the dataset file names do (``camid=0`` is drawn ``C1``), see
:func:`camera_label`.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence

import mmcv
import numpy as np

from mmdcct.evaluation.functional import compute_distance, rank_topk

__all__ = [
    'rank_gallery', 'select_frames', 'read_frames', 'draw_rank_lists',
    'rank_list_filename', 'camera_label'
]


def rank_gallery(query_feats: np.ndarray,
                 gallery_feats: np.ndarray,
                 q_pids: Optional[Sequence[int]] = None,
                 g_pids: Optional[Sequence[int]] = None,
                 q_camids: Optional[Sequence[int]] = None,
                 g_camids: Optional[Sequence[int]] = None,
                 topk: int = 10,
                 metric: str = 'cosine',
                 ignore_same_camera: bool = True,
                 q_keys: Optional[Sequence] = None,
                 g_keys: Optional[Sequence] = None) -> List[dict]:
    """The ``topk`` gallery tracklets of every query.

    With ``ignore_same_camera`` (the camera-aware Re-ID protocol, as in
    :class:`~mmdcct.evaluation.VideoReIDMetric`), gallery entries with the
    query's identity **and** camera are skipped. A gallery entry whose key
    equals the query's key (the same tracklet, e.g. when the queries are
    also gallery entries) is always skipped.

    Args:
        query_feats (np.ndarray): ``(Q, C)``.
        gallery_feats (np.ndarray): ``(G, C)``.
        q_pids, g_pids (Sequence[int], optional): Identities (needed for the
            match flags and the camera filter).
        q_camids, g_camids (Sequence[int], optional): Cameras.
        topk (int): Entries per query. Defaults to 10.
        metric (str): ``'cosine'`` or ``'euclidean'``. Defaults to
            ``'cosine'``.
        ignore_same_camera (bool): Apply the camera filter. Defaults to True.
        q_keys, g_keys (Sequence, optional): Tracklet keys (e.g. dataset
            indices) identifying the same tracklet on both sides.

    Returns:
        list[dict]: Per query ``indices`` (int64, into the gallery),
        ``distances`` (float32) and ``matches`` (bool array, or None without
        identities), all of length ``<= topk``.
    """
    dist = compute_distance(query_feats, gallery_feats, metric).cpu().numpy()
    have_ids = q_pids is not None and g_pids is not None
    have_cams = have_ids and q_camids is not None and g_camids is not None
    exclude = np.zeros(dist.shape, dtype=bool)
    if q_keys is not None and g_keys is not None:
        exclude |= np.asarray(q_keys, dtype=object)[:, None] == np.asarray(
            g_keys, dtype=object)[None, :]
    if ignore_same_camera and have_cams:
        exclude |= ((np.asarray(q_pids)[:, None] == np.asarray(g_pids)[None])
                    & (np.asarray(q_camids)[:, None]
                       == np.asarray(g_camids)[None]))
    indices, distances = rank_topk(dist, topk, exclude)
    out = []
    for i in range(dist.shape[0]):
        n = int(np.count_nonzero(indices[i] >= 0))
        order = indices[i, :n]
        out.append(
            dict(
                indices=order,
                distances=distances[i, :n].astype(np.float32),
                matches=(np.asarray(g_pids)[order] == q_pids[i])
                if have_ids else None))
    return out


def select_frames(paths: Sequence[str], num: int) -> List[str]:
    """``num`` frames evenly spread over a tracklet (all if fewer; the middle
    one for ``num=1``).

    Args:
        paths (Sequence[str]): The tracklet's frames in order.
        num (int): Frames wanted.

    Returns:
        list[str]: The chosen paths, in order.
    """
    paths = list(paths)
    if num >= len(paths):
        return paths
    if num == 1:
        return [paths[len(paths) // 2]]
    inds = np.linspace(0, len(paths) - 1, num).round().astype(int)
    return [paths[i] for i in inds]


def read_frames(paths: Sequence[str]) -> List[np.ndarray]:
    """Read frames as RGB ``uint8`` arrays.

    Args:
        paths (Sequence[str]): Image files.

    Returns:
        list[np.ndarray]: ``H x W x 3`` RGB frames.
    """
    frames = []
    for path in paths:
        img = mmcv.imread(path, channel_order='rgb')
        if img is None:
            raise OSError(f'Cannot read frame {path!r}')
        frames.append(img)
    return frames


def camera_label(camid: int) -> str:
    """The 1-based label of a 0-based camera id: ``0`` -> ``'C1'``.

    Args:
        camid (int): The camera as in the data samples (0-based).

    Returns:
        str: ``'C<camid + 1>'``, as in the dataset file names.
    """
    return f'C{int(camid) + 1}'


def rank_list_filename(query_pos: int, pid=None, camid=None) -> str:
    """``rank_q0003_pid0012_C2.png``-style file name of a rank list.

    Args:
        query_pos (int): Number of the query.
        pid (int, optional): Its identity.
        camid (int, optional): Its camera, 0-based (written 1-based,
            ``camid=1`` -> ``C2``).

    Returns:
        str: The file name.
    """
    name = f'rank_q{query_pos:04d}'
    if pid is not None:
        name += f'_pid{int(pid):04d}'
    if camid is not None:
        name += f'_{camera_label(camid)}'
    return name + '.png'


def draw_rank_lists(visualizer,
                    queries: Sequence[dict],
                    gallery: Sequence[dict],
                    ranks: Sequence[dict],
                    out_dir: Optional[str] = None,
                    num_query_frames: int = 4,
                    gallery_frames: int = 1,
                    query_positions: Optional[Sequence[int]] = None,
                    show: bool = False,
                    wait_time: float = 0,
                    step: int = 0,
                    backend=None) -> List[str]:
    """Draw (and write) the rank list of every query.

    Args:
        visualizer (VideoReIDVisualizer): Draws the images.
        queries (Sequence[dict]): Query tracklets: ``img_paths`` and
            optionally ``pid`` / ``camid`` (0-based, drawn 1-based).
        gallery (Sequence[dict]): Gallery tracklets, the same keys.
        ranks (Sequence[dict]): :func:`rank_gallery` output, one per query.
        out_dir (str, optional): Write ``rank_q*.png`` files here; None
            sends the images to the backends of ``backend`` (or of
            ``visualizer``) with ``add_image``.
        num_query_frames (int): Query frames shown. Defaults to 4.
        gallery_frames (int): Frames per gallery tracklet (1: a
            representative middle frame). Defaults to 1.
        query_positions (Sequence[int], optional): Numbers used in the file
            names. Defaults to ``0, 1, ...``.
        show (bool): Show every image. Defaults to False.
        wait_time (float): Seconds to show each. Defaults to 0.
        step (int): Backend step. Defaults to 0.
        backend (mmengine.visualization.Visualizer, optional): Where
            ``add_image`` goes without ``out_dir`` (e.g. the runner's
            visualiser). Defaults to ``visualizer``.

    Returns:
        list[str]: Written files (empty without ``out_dir``).
    """
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
    if query_positions is None:
        query_positions = list(range(len(queries)))
    written = []
    for pos, query, rank in zip(query_positions, queries, ranks):
        q_frames = read_frames(
            select_frames(query['img_paths'], num_query_frames))
        g_frames = [
            read_frames(
                select_frames(gallery[int(i)]['img_paths'], gallery_frames))
            for i in rank['indices']
        ]
        title = 'query'
        if query.get('pid') is not None:
            title += f' id {query["pid"]}'
        if query.get('camid') is not None:
            title += f' {camera_label(query["camid"])}'
        matches = rank.get('matches')
        name = rank_list_filename(pos, query.get('pid'), query.get('camid'))
        image = visualizer.draw_rank_list(
            q_frames,
            g_frames,
            rank['distances'],
            None if matches is None else [bool(m) for m in matches],
            query_title=title)
        if show:
            visualizer.show(
                image, win_name=osp.splitext(name)[0], wait_time=wait_time)
        out_file = osp.join(out_dir, name) if out_dir is not None else None
        if out_file is not None:
            mmcv.imwrite(image[..., ::-1], out_file)
        else:
            (backend
             or visualizer).add_image(osp.splitext(name)[0], image, step)
        if out_file is not None:
            written.append(out_file)
    return written

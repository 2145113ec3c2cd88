"""Rank-list PNGs of the test queries (``tools/test.py --show-dir``)."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import collect_results, is_main_process
from mmengine.hooks import Hook
from mmengine.structures import BaseDataElement

from mmdcct.registry import HOOKS
from mmdcct.visualization import (VideoReIDVisualizer, draw_rank_lists,
                                  rank_gallery)

__all__ = ['VideoReIDVisualizationHook']


def _scalar(value):
    """A Python scalar from an int / numpy / 1-element tensor value."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return value.reshape(-1)[0].item()
    return value


@HOOKS.register_module()
class VideoReIDVisualizationHook(Hook):
    """Draw the rank lists of the first test queries after the test loop.

    The hook collects, in ``after_test_iter``, every test output's
    ``pred_feature`` and the metainfo ``pid``, ``camid``, ``is_query``,
    ``is_gallery``, ``img_paths`` and ``sample_idx`` (gathered from all
    ranks), and in ``after_test_epoch`` ranks the gallery for the first
    ``num_queries`` queries (every ``interval``-th query) with the
    camera-aware protocol of :class:`~mmdcct.evaluation.VideoReIDMetric`
    and draws them with :class:`VideoReIDVisualizer`: ``rank_q*.png`` files
    in ``out_dir``, or, when ``out_dir`` is None, images sent to the
    runner's visualiser (``add_image``: its ``vis_backends``, e.g.
    ``LocalVisBackend`` -> ``<work_dir>/<timestamp>/vis_data/vis_image/``,
    ``TensorboardVisBackend``).

    ``tools/test.py --show-dir DIR`` sets ``enable=True`` and
    ``out_dir=DIR`` (``--interval`` / ``--show`` / ``--wait-time`` set the
    arguments of the same names) on ``default_hooks.visualization``; the
    runtime config declares it disabled::

        default_hooks = dict(
            visualization=dict(type='VideoReIDVisualizationHook',
                               enable=False))

    Args:
        enable (bool): Whether to draw anything. Defaults to False.
        interval (int): Draw every ``interval``-th query. Defaults to 1.
        num_queries (int): Rank lists drawn. Defaults to 10.
        topk (int): Gallery tracklets per rank list. Defaults to 10.
        num_query_frames (int): Query frames shown. Defaults to 4.
        gallery_frames (int): Frames per gallery tracklet. Defaults to 1.
        ignore_same_camera (bool): Skip gallery entries with the query's id
            and camera, as the metric does. Defaults to True.
        distance (str): ``'cosine'`` or ``'euclidean'``. Defaults to
            ``'cosine'``.
        out_dir (str, optional): Output folder. Defaults to None.
        show (bool): Show every image in a window. Defaults to False.
        wait_time (float): Seconds each image is shown. Defaults to 0.
        visualizer (dict, optional): Config of the drawing
            :class:`VideoReIDVisualizer` (e.g. ``tile_size``) when the
            runner's visualiser is not one. Defaults to None.
    """

    priority = 'LOW'

    def __init__(self,
                 enable: bool = False,
                 interval: int = 1,
                 num_queries: int = 10,
                 topk: int = 10,
                 num_query_frames: int = 4,
                 gallery_frames: int = 1,
                 ignore_same_camera: bool = True,
                 distance: str = 'cosine',
                 out_dir: Optional[str] = None,
                 show: bool = False,
                 wait_time: float = 0.,
                 visualizer: Optional[dict] = None) -> None:
        if interval < 1 or num_queries < 1 or topk < 1:
            raise ValueError('interval, num_queries and topk must be >= 1')
        self.enable = enable
        self.interval = int(interval)
        self.num_queries = int(num_queries)
        self.topk = int(topk)
        self.num_query_frames = int(num_query_frames)
        self.gallery_frames = int(gallery_frames)
        self.ignore_same_camera = ignore_same_camera
        self.distance = distance
        self.out_dir = out_dir
        self.show = show
        self.wait_time = wait_time
        self.visualizer_cfg = dict(visualizer or {})
        self._results: List[dict] = []
        #: files written by the last test run
        self.written: List[str] = []
        #: the last test run's rank lists: per drawn query ``query`` (its
        #: collected entry), ``gallery`` (the ranked entries), ``distances``
        #: and ``matches``
        self.rank_lists: List[dict] = []

    def before_test(self, runner) -> None:
        """Reset the collected outputs."""
        self._results = []
        self.written = []
        self.rank_lists = []

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        """Keep the feature and the metainfo of every output sample."""
        if not self.enable or not outputs:
            return
        for sample in outputs:
            if isinstance(sample, BaseDataElement):
                feat = sample.get('pred_feature')
                meta = sample.metainfo
            else:
                feat = sample.get('pred_feature')
                meta = sample
            if feat is None:
                continue
            self._results.append(
                dict(
                    feature=torch.as_tensor(feat).detach().float().reshape(
                        -1).cpu(),
                    pid=_scalar(meta.get('pid')),
                    camid=_scalar(meta.get('camid')),
                    is_query=bool(meta.get('is_query', False)),
                    is_gallery=bool(meta.get('is_gallery', False)),
                    img_paths=list(meta.get('img_paths', [])),
                    sample_idx=_scalar(meta.get('sample_idx'))))

    def _visualizer(self, runner) -> VideoReIDVisualizer:
        """The runner's visualiser if it is one of ours, else our own."""
        vis = getattr(runner, 'visualizer', None)
        if isinstance(vis, VideoReIDVisualizer) and not self.visualizer_cfg:
            return vis
        name = f'video_reid_vis_hook_{id(self)}'
        if VideoReIDVisualizer.check_instance_created(name):
            return VideoReIDVisualizer.get_instance(name)
        return VideoReIDVisualizer.get_instance(name, **self.visualizer_cfg)

    def after_test_epoch(self,
                         runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        """Rank the gallery for the chosen queries and draw them."""
        if not self.enable:
            return
        size = len(runner.test_dataloader.dataset)
        results = collect_results(self._results, size, 'cpu')
        self._results = []
        if not is_main_process() or not results:
            return
        queries = [r for r in results if r['is_query']]
        gallery = [r for r in results if r['is_gallery']]
        if not queries or not gallery:
            runner.logger.warning(
                'VideoReIDVisualizationHook: no query or no gallery '
                'tracklet in the test outputs; nothing drawn.')
            return
        chosen = list(range(0, len(queries), self.interval))[:self.num_queries]
        queries = [queries[i] for i in chosen]
        ranks = rank_gallery(
            torch.stack([q['feature'] for q in queries]),
            torch.stack([g['feature'] for g in gallery]),
            [q['pid'] for q in queries], [g['pid'] for g in gallery],
            [q['camid'] for q in queries], [g['camid'] for g in gallery],
            topk=self.topk,
            metric=self.distance,
            ignore_same_camera=self.ignore_same_camera,
            q_keys=[q['sample_idx'] for q in queries],
            g_keys=[g['sample_idx'] for g in gallery])
        self.rank_lists = [
            dict(
                query=q,
                gallery=[gallery[int(i)] for i in r['indices']],
                distances=r['distances'],
                matches=r['matches']) for q, r in zip(queries, ranks)
        ]
        vis = self._visualizer(runner)
        self.written = draw_rank_lists(
            vis,
            queries,
            gallery,
            ranks,
            out_dir=self.out_dir,
            num_query_frames=self.num_query_frames,
            gallery_frames=self.gallery_frames,
            query_positions=chosen,
            show=self.show,
            wait_time=self.wait_time,
            backend=getattr(runner, 'visualizer', None))
        where = (
            osp.abspath(self.out_dir)
            if self.out_dir is not None else 'the visualizer backends')
        runner.logger.info(
            f'VideoReIDVisualizationHook: {len(queries)} rank lists '
            f'(top-{self.topk}) written to {where}.')

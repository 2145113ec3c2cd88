"""Visualisation: rank lists, CCA attention and Grad-CAM maps.

:class:`VideoReIDVisualizer` is registered in ``mmdcct.registry.VISUALIZERS``
and :class:`VideoReIDVisualizationHook` in ``mmdcct.registry.HOOKS``.
"""
from .attention import (BranchProbe, compute_cca_attention, compute_grad_cam,
                        get_branches, infer_grid, overlay_heatmap,
                        tracklet_attention_figures)
from .rank_list import (draw_rank_lists, rank_gallery, rank_list_filename,
                        read_frames, select_frames)
from .video_reid_visualization_hook import VideoReIDVisualizationHook
from .visualizer import VideoReIDVisualizer

__all__ = [
    'VideoReIDVisualizer', 'VideoReIDVisualizationHook', 'BranchProbe',
    'get_branches', 'infer_grid', 'compute_cca_attention', 'compute_grad_cam',
    'overlay_heatmap', 'tracklet_attention_figures', 'rank_gallery',
    'select_frames', 'read_frames', 'draw_rank_lists', 'rank_list_filename'
]

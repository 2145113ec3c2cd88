"""Visualisation: rank lists, CCA attention and Grad-CAM maps.

Imports go one way: :mod:`.attention` computes maps and :mod:`.rank_list`
ranks and draws through any visualiser; :mod:`.visualizer` draws what it is
given and imports neither. :class:`VideoReIDVisualizer` is registered in
``mmdcct.registry.VISUALIZERS``; the test-time hook drawing rank lists is
:class:`mmdcct.engine.VideoReIDVisualizationHook`.
"""
from .attention import (BranchProbe, compute_cca_attention, compute_grad_cam,
                        get_branches, infer_grid, tracklet_attention_maps)
from .rank_list import (camera_label, draw_rank_lists, rank_gallery,
                        rank_list_filename, read_frames, select_frames)
from .visualizer import VideoReIDVisualizer, overlay_heatmap

__all__ = [
    'VideoReIDVisualizer', 'BranchProbe', 'get_branches', 'infer_grid',
    'compute_cca_attention', 'compute_grad_cam', 'tracklet_attention_maps',
    'overlay_heatmap', 'rank_gallery', 'select_frames', 'read_frames',
    'draw_rank_lists', 'rank_list_filename', 'camera_label'
]

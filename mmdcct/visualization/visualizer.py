"""Visualiser of video Re-ID results: rank lists and heat-map grids.

It draws what it is given (frames, distances, maps) and imports no other
``mmdcct.visualization`` module: the maps come from
:mod:`mmdcct.visualization.attention`, the rankings from
:mod:`mmdcct.visualization.rank_list`.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmengine.dist import master_only
from mmengine.visualization import Visualizer

from mmdcct.registry import VISUALIZERS

__all__ = ['VideoReIDVisualizer', 'overlay_heatmap']

Box = Tuple[int, int, int, int]
Color = Tuple[int, int, int]

#: Row labels of the attention figures.
_CCA_LABELS = dict(
    cnn_self='CNN self',
    cnn_cross='CNN cross',
    trans_self='ViT self',
    trans_cross='ViT cross')
_CAM_LABELS = dict(cnn='CNN CAM', trans='ViT CAM', backbone='Grad-CAM')


def overlay_heatmap(frame: np.ndarray,
                    heatmap: np.ndarray,
                    alpha: float = 0.5,
                    normalize: bool = True,
                    colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """Blend a heat map over a frame.

    Args:
        frame (np.ndarray): ``H x W x 3`` RGB ``uint8``.
        heatmap (np.ndarray): ``h x w`` map (any range); resized bilinearly
            to ``H x W``.
        alpha (float): Weight of the colour map. Defaults to 0.5.
        normalize (bool): Min-max scale the map to ``[0, 1]`` first (else
            it is clipped to ``[0, 1]``). Defaults to True.
        colormap (int): OpenCV colour map. Defaults to ``COLORMAP_JET``.

    Returns:
        np.ndarray: ``H x W x 3`` RGB ``uint8``.
    """
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f'frame must be H x W x 3, got {frame.shape}')
    heat = np.asarray(heatmap, dtype=np.float32)
    if normalize:
        lo, hi = float(heat.min()), float(heat.max())
        heat = (heat - lo) / (hi - lo) if hi > lo else np.zeros_like(heat)
    heat = np.clip(heat, 0, 1)
    heat = cv2.resize(
        heat, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)
    color = cv2.applyColorMap((heat * 255).astype(np.uint8), colormap)
    color = cv2.cvtColor(color, cv2.COLOR_BGR2RGB)
    out = (1 - alpha) * frame.astype(np.float32) + alpha * color
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _as_frames(frames: Union[np.ndarray, Sequence[np.ndarray]],
               what: str) -> List[np.ndarray]:
    """A list of ``H x W x 3`` uint8 frames."""
    if isinstance(frames, np.ndarray) and frames.ndim == 3:
        frames = [frames]
    out = [np.asarray(f) for f in frames]
    if not out:
        raise ValueError(f'{what}: no frame to draw')
    for f in out:
        if f.ndim != 3 or f.shape[2] != 3:
            raise ValueError(f'{what}: frames must be H x W x 3 RGB, got '
                             f'{f.shape}')
    return [
        f if f.dtype == np.uint8 else np.clip(f, 0, 255).astype(np.uint8)
        for f in out
    ]


@VISUALIZERS.register_module()
class VideoReIDVisualizer(Visualizer):
    """Draws rank lists and attention / Grad-CAM grids of tracklets.

    Images are composed with OpenCV in RGB on a white canvas of a size that
    only depends on the layout arguments (:meth:`rank_list_layout`), then
    handed to MMEngine's machinery: written to ``out_file``, shown, or sent
    to the visualisation backends (``add_image``) like every OpenMMLab
    visualiser.

    Rank list (:meth:`draw_rank_list`): the query's frames in a blue frame,
    then the top-k gallery tracklets (one representative frame or a strip of
    frames each) framed in green (same identity), red (another identity) or
    grey (unknown), with ``#rank distance`` written above each.

    Args:
        name (str): Instance name. Defaults to ``'visualizer'``.
        image (np.ndarray, optional): Initial image. Defaults to None.
        vis_backends (list[dict], optional): Visualisation backends.
        save_dir (str, optional): Where the backends write.
        tile_size (tuple[int, int]): ``(h, w)`` every frame is resized to.
            Defaults to ``(128, 64)``.
        border (int): Border thickness in pixels. Defaults to 4.
        text_height (int): Height of the caption band above each cell.
            Defaults to 20.
        gap (int): Space between gallery cells (and grid tiles). Defaults to
            6.
        margin (int): Outer margin. Defaults to 6.
        separator (int): Space between the query and the first gallery
            cell. Defaults to 18.
        label_width (int): Width of the row-label column of heat-map grids.
            Defaults to 84.
        colorbar_width (int): Width of the colour bar of heat-map grids
            (its tick labels take 4 more widths). Defaults to 12.
        **kwargs: Passed to :class:`mmengine.visualization.Visualizer`.
    """

    QUERY_COLOR: Color = (0, 90, 255)
    MATCH_COLOR: Color = (0, 200, 0)
    MISMATCH_COLOR: Color = (230, 0, 0)
    UNKNOWN_COLOR: Color = (150, 150, 150)
    BACKGROUND: Color = (255, 255, 255)
    TEXT_COLOR: Color = (0, 0, 0)

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[List[dict]] = None,
                 save_dir: Optional[str] = None,
                 tile_size: Tuple[int, int] = (128, 64),
                 border: int = 4,
                 text_height: int = 20,
                 gap: int = 6,
                 margin: int = 6,
                 separator: int = 18,
                 label_width: int = 84,
                 colorbar_width: int = 12,
                 **kwargs) -> None:
        super().__init__(
            name=name,
            image=image,
            vis_backends=vis_backends,
            save_dir=save_dir,
            **kwargs)
        self.tile_size = (int(tile_size[0]), int(tile_size[1]))
        self.border = int(border)
        self.text_height = int(text_height)
        self.gap = int(gap)
        self.margin = int(margin)
        self.separator = int(separator)
        self.label_width = int(label_width)
        self.colorbar_width = int(colorbar_width)

    # ------------------------------------------------------------------
    # primitives
    # ------------------------------------------------------------------
    def _tile(self, frame: np.ndarray) -> np.ndarray:
        """Resize a frame to ``tile_size``."""
        h, w = self.tile_size
        if frame.shape[:2] == (h, w):
            return frame
        interp = cv2.INTER_AREA if frame.shape[0] > h else cv2.INTER_LINEAR
        return cv2.resize(frame, (w, h), interpolation=interp)

    def _put_text(self,
                  canvas: np.ndarray,
                  text: str,
                  box: Box,
                  color: Color = None) -> None:
        """Write ``text`` centred in ``box`` (scaled down to fit)."""
        x0, y0, x1, y1 = box
        font = cv2.FONT_HERSHEY_SIMPLEX
        (tw, th), base = cv2.getTextSize(text, font, 1.0, 1)
        scale = min(0.5, (x1 - x0 - 2) / max(tw, 1),
                    (y1 - y0 - 2) / max(th + base, 1))
        if scale <= 0.05:
            return
        (tw, th), base = cv2.getTextSize(text, font, scale, 1)
        x = x0 + max(0, (x1 - x0 - tw) // 2)
        y = y0 + (y1 - y0 + th) // 2
        cv2.putText(canvas, text, (x, y), font, scale, color
                    or self.TEXT_COLOR, 1, cv2.LINE_AA)

    def _frame_box(self, canvas: np.ndarray, box: Box,
                   frames: List[np.ndarray], color: Color) -> None:
        """Fill ``box`` with the border colour and paste the frames."""
        x0, y0, x1, y1 = box
        b = self.border
        canvas[y0:y1, x0:x1] = color
        x = x0 + b
        for frame in frames:
            tile = self._tile(frame)
            canvas[y0 + b:y0 + b + tile.shape[0], x:x + tile.shape[1]] = tile
            x += tile.shape[1]

    # ------------------------------------------------------------------
    # rank lists
    # ------------------------------------------------------------------
    def rank_list_layout(self, num_query_frames: int,
                         gallery_frames: Sequence[int]) -> dict:
        """Geometry of a rank list.

        Args:
            num_query_frames (int): Frames shown for the query.
            gallery_frames (Sequence[int]): Frames shown per gallery cell.

        Returns:
            dict: ``shape`` ``(H, W)`` of the canvas, ``query`` box and
            ``gallery`` boxes (``(x0, y0, x1, y1)``, end-exclusive, border
            included) and ``captions`` (the caption band of every cell,
            query first).
        """
        th, tw = self.tile_size
        b, m = self.border, self.margin
        y0 = m + self.text_height
        y1 = y0 + th + 2 * b
        x = m
        query = (x, y0, x + num_query_frames * tw + 2 * b, y1)
        x = query[2] + self.separator
        gallery = []
        for i, n in enumerate(gallery_frames):
            gallery.append((x, y0, x + int(n) * tw + 2 * b, y1))
            x = gallery[-1][2] + self.gap
        width = (gallery[-1][2] if gallery else query[2]) + m
        captions = [(bx[0], m, bx[2], y0) for bx in [query] + gallery]
        return dict(
            shape=(y1 + m, width),
            query=query,
            gallery=gallery,
            captions=captions)

    def draw_rank_list(
            self,
            query_frames: Union[np.ndarray, Sequence[np.ndarray]],
            gallery_frames: Sequence[Union[np.ndarray, Sequence[np.ndarray]]],
            distances: Sequence[float],
            matches: Optional[Sequence[Optional[bool]]] = None,
            query_title: str = 'query',
            gallery_titles: Optional[Sequence[str]] = None) -> np.ndarray:
        """Draw a query and its ranked gallery tracklets.

        Args:
            query_frames (np.ndarray | Sequence[np.ndarray]): The query's
                frames to show (RGB ``uint8``, any size).
            gallery_frames (Sequence): Per gallery tracklet, one frame or a
                list of frames (a strip).
            distances (Sequence[float]): Distance of every gallery tracklet.
            matches (Sequence[bool | None], optional): True (green border),
                False (red) or None (grey) per gallery tracklet. Defaults to
                None (all grey).
            query_title (str): Caption of the query. Defaults to 'query'.
            gallery_titles (Sequence[str], optional): Captions of the
                gallery cells. Defaults to ``'#{rank} {distance:.3f}'``.

        Returns:
            np.ndarray: The RGB ``uint8`` image (also set as the current
            image).
        """
        query = _as_frames(query_frames, 'query')
        gallery = [
            _as_frames(g, f'gallery #{i + 1}')
            for i, g in enumerate(gallery_frames)
        ]
        if len(distances) != len(gallery):
            raise ValueError(f'{len(distances)} distances for '
                             f'{len(gallery)} gallery tracklets')
        if matches is None:
            matches = [None] * len(gallery)
        if len(matches) != len(gallery):
            raise ValueError(f'{len(matches)} match flags for '
                             f'{len(gallery)} gallery tracklets')
        if gallery_titles is None:
            gallery_titles = [
                f'#{i + 1} {float(d):.3f}' for i, d in enumerate(distances)
            ]
        layout = self.rank_list_layout(len(query), [len(g) for g in gallery])
        canvas = np.empty((*layout['shape'], 3), dtype=np.uint8)
        canvas[:] = self.BACKGROUND
        self._frame_box(canvas, layout['query'], query, self.QUERY_COLOR)
        self._put_text(canvas, query_title, layout['captions'][0])
        for box, caption, frames, match, title in zip(layout['gallery'],
                                                      layout['captions'][1:],
                                                      gallery, matches,
                                                      gallery_titles):
            color = (
                self.UNKNOWN_COLOR if match is None else
                self.MATCH_COLOR if match else self.MISMATCH_COLOR)
            self._frame_box(canvas, box, frames, color)
            self._put_text(canvas, title, caption)
        self.set_image(canvas)
        return canvas

    def add_rank_list(self,
                      name: str,
                      query_frames,
                      gallery_frames,
                      distances: Sequence[float],
                      matches: Optional[Sequence[Optional[bool]]] = None,
                      query_title: str = 'query',
                      gallery_titles: Optional[Sequence[str]] = None,
                      show: bool = False,
                      wait_time: float = 0,
                      out_file: Optional[str] = None,
                      step: int = 0) -> np.ndarray:
        """Draw a rank list and write / show / log it.

        Args:
            name (str): Image name (backends, window title).
            query_frames, gallery_frames, distances, matches, query_title,
                gallery_titles: See :meth:`draw_rank_list`.
            show (bool): Show it in a window. Defaults to False.
            wait_time (float): Seconds to show it. Defaults to 0.
            out_file (str, optional): Write it to this file (the backends
                are then not used, as in mmpretrain). Defaults to None.
            step (int): Global step for the backends. Defaults to 0.

        Returns:
            np.ndarray: The RGB image.
        """
        image = self.draw_rank_list(query_frames, gallery_frames, distances,
                                    matches, query_title, gallery_titles)
        self._output(name, image, show, wait_time, out_file, step)
        return image

    # ------------------------------------------------------------------
    # heat-map grids
    # ------------------------------------------------------------------
    def heatmap_grid_layout(self,
                            num_frames: int,
                            num_rows: int,
                            colorbar: bool = True) -> dict:
        """Geometry of a heat-map grid.

        Args:
            num_frames (int): Columns (frames).
            num_rows (int): Rows (the frames row included).
            colorbar (bool): Leave room for a colour bar right of the
                heat-map rows (when there is one). Defaults to True.

        Returns:
            dict: ``shape`` ``(H, W)``, ``tiles[r][c]`` boxes, ``labels[r]``
            boxes, ``colorbar`` (the bar's box, top = 1, bottom = 0, or
            None) and ``colorbar_ticks`` (the boxes of its top, middle and
            bottom tick labels; empty without a bar).
        """
        th, tw = self.tile_size
        m, g = self.margin, self.gap // 2 or 1
        tiles, labels = [], []
        for r in range(num_rows):
            y0 = m + r * (th + g)
            labels.append((m, y0, m + self.label_width, y0 + th))
            tiles.append([(m + self.label_width + c * (tw + g), y0,
                           m + self.label_width + c * (tw + g) + tw, y0 + th)
                          for c in range(num_frames)])
        height = m + num_rows * th + (num_rows - 1) * g + m
        width = m + self.label_width + num_frames * tw + (num_frames -
                                                          1) * g + m
        bar, ticks = None, []
        if colorbar and num_rows > 1:
            x0 = width - m + 2 * g
            bar = (x0, tiles[1][0][1], x0 + self.colorbar_width,
                   tiles[-1][0][3])
            tick_w, half = 4 * self.colorbar_width, self.text_height // 2
            for y in (bar[1], (bar[1] + bar[3]) // 2, bar[3]):
                y = min(max(y, bar[1] + half), bar[3] - half)
                ticks.append((bar[2] + 2, y - half, bar[2] + 2 + tick_w,
                              y + half))
            width = ticks[0][2] + m
        return dict(
            shape=(height, width),
            tiles=tiles,
            labels=labels,
            colorbar=bar,
            colorbar_ticks=ticks)

    def draw_heatmap_grid(self,
                          frames: Union[np.ndarray, Sequence[np.ndarray]],
                          rows: Dict[str, np.ndarray],
                          alpha: float = 0.5,
                          normalize: bool = True,
                          frames_label: str = 'frames',
                          colorbar: bool = True) -> np.ndarray:
        """Frames in the first row, one overlaid heat map per row below,
        and a colour bar giving the scale of the maps.

        Args:
            frames (np.ndarray | Sequence[np.ndarray]): ``T`` RGB frames.
            rows (dict[str, np.ndarray]): Row label -> ``(T, h, w)`` maps.
            alpha (float): Overlay weight. Defaults to 0.5.
            normalize (bool): Min-max scale every map; the colour bar then
                reads ``min`` .. ``max`` (of each map), else ``0`` .. ``1``
                (maps clipped to it). Defaults to True.
            frames_label (str): Label of the first row.
            colorbar (bool): Draw the colour bar (the colour map from 0 at
                the bottom to 1 at the top, not blended). Defaults to True.

        Returns:
            np.ndarray: The RGB ``uint8`` image.
        """
        frames = _as_frames(frames, 'frames')
        for label, maps in rows.items():
            if len(maps) != len(frames):
                raise ValueError(f'Row {label!r} has {len(maps)} maps for '
                                 f'{len(frames)} frames')
        layout = self.heatmap_grid_layout(
            len(frames), len(rows) + 1, colorbar=colorbar)
        canvas = np.empty((*layout['shape'], 3), dtype=np.uint8)
        canvas[:] = self.BACKGROUND
        tiles = [self._tile(f) for f in frames]
        all_rows = [(frames_label, None)] + list(rows.items())
        for r, (label, maps) in enumerate(all_rows):
            self._put_text(canvas, label, layout['labels'][r])
            for c, tile in enumerate(tiles):
                x0, y0, x1, y1 = layout['tiles'][r][c]
                img = tile if maps is None else overlay_heatmap(
                    tile, maps[c], alpha=alpha, normalize=normalize)
                canvas[y0:y1, x0:x1] = img
        if layout['colorbar'] is not None:
            x0, y0, x1, y1 = layout['colorbar']
            ramp = np.linspace(255, 0, y1 - y0).round().astype(np.uint8)
            color = cv2.applyColorMap(ramp[:, None], cv2.COLORMAP_JET)
            canvas[y0:y1, x0:x1] = cv2.cvtColor(color, cv2.COLOR_BGR2RGB)
            ticks = ('max', None, 'min') if normalize else ('1', '0.5', '0')
            for text, box in zip(ticks, layout['colorbar_ticks']):
                if text:
                    self._put_text(canvas, text, box)
        self.set_image(canvas)
        return canvas

    def add_heatmap_grid(self,
                         name: str,
                         frames,
                         rows: Dict[str, np.ndarray],
                         alpha: float = 0.5,
                         normalize: bool = True,
                         show: bool = False,
                         wait_time: float = 0,
                         out_file: Optional[str] = None,
                         step: int = 0) -> np.ndarray:
        """Draw a heat-map grid and write / show / log it (see
        :meth:`add_rank_list` for the output arguments)."""
        image = self.draw_heatmap_grid(frames, rows, alpha, normalize)
        self._output(name, image, show, wait_time, out_file, step)
        return image

    def draw_attention_figures(self,
                               frames: np.ndarray,
                               cca: Optional[Dict[str, np.ndarray]],
                               grad_cam: Dict[str, np.ndarray],
                               alpha: float = 0.5,
                               max_frames: int = 8) -> dict:
        """Fig. 7 / Fig. 8 style grids of one tracklet's maps.

        Args:
            frames (np.ndarray): ``(T, H, W, 3)`` RGB ``uint8``.
            cca (dict[str, np.ndarray], optional): CCA maps ``(1, T, h, w)``
                by key (``cnn_self`` ...), or None.
            grad_cam (dict[str, np.ndarray]): Grad-CAM maps ``(1, T, h, w)``
                by branch (``cnn`` / ``trans`` / ``backbone``), in ``[0, 1]``.
            alpha (float): Overlay weight. Defaults to 0.5.
            max_frames (int): Frames shown (evenly chosen). Defaults to 8.

        Returns:
            dict: ``cca_figure`` (RGB image, None without ``cca``) and
            ``grad_cam_figure`` (RGB image).
        """
        keep = np.unique(
            np.linspace(0,
                        len(frames) - 1, min(max_frames,
                                             len(frames))).round().astype(int))
        cca_figure = None
        if cca is not None:
            cca_figure = self.draw_heatmap_grid(
                frames[keep], {
                    _CCA_LABELS.get(k, k): v[0][keep]
                    for k, v in cca.items()
                },
                alpha=alpha)
        cam_figure = self.draw_heatmap_grid(
            frames[keep], {
                _CAM_LABELS.get(k, k): v[0][keep]
                for k, v in grad_cam.items()
            },
            alpha=alpha,
            normalize=False)
        return dict(cca_figure=cca_figure, grad_cam_figure=cam_figure)

    # ------------------------------------------------------------------
    @master_only
    def _output(self, name: str, image: np.ndarray, show: bool,
                wait_time: float, out_file: Optional[str], step: int) -> None:
        """Show, write (RGB -> BGR file) or send to the backends."""
        if show:
            self.show(image, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(image[..., ::-1], out_file)
        else:
            self.add_image(name, image, step)

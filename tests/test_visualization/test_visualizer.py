"""VideoReIDVisualizer: rank-list geometry, border colours and captions read
back from the written PNG; heat-map grids; registry."""
import cv2
import numpy as np
import pytest

from mmdcct.registry import VISUALIZERS
from mmdcct.visualization import VideoReIDVisualizer, overlay_heatmap

V = VideoReIDVisualizer


@pytest.fixture(scope='module')
def vis():
    return VideoReIDVisualizer.get_instance(
        'test_rank_vis',
        tile_size=(64, 32),
        border=3,
        text_height=16,
        gap=5,
        margin=4,
        separator=10)


def solid(color, h=50, w=20):
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = color
    return img


def bgr(rgb):
    return tuple(int(c) for c in rgb[::-1])


def test_registered_and_a_visualizer():
    from mmengine.visualization import Visualizer
    vis = VISUALIZERS.build(dict(type='VideoReIDVisualizer', name='reg'))
    assert isinstance(vis, Visualizer) and isinstance(vis, V)


def test_rank_list_png_size_and_border_colours(vis, tmp_path):
    query = [solid((10, 20, 30)) for _ in range(3)]
    gallery = [
        solid((200, 200, 0)), [solid((0, 100, 100))] * 2,
        solid((50, 50, 50))
    ]
    matches = [True, False, None]
    out = tmp_path / 'rank.png'
    img = vis.add_rank_list(
        'rank', query, gallery, [0.1, 0.25, 0.5], matches, out_file=str(out))
    # expected geometry: margin 4, caption 16, tile 64x32, border 3,
    # separator 10 after the query, gap 5 between gallery cells
    height = 4 + 16 + 64 + 2 * 3 + 4
    widths = [3 * 32 + 6, 1 * 32 + 6, 2 * 32 + 6, 1 * 32 + 6]
    width = 4 + widths[0] + 10 + sum(widths[1:]) + 2 * 5 + 4
    read = cv2.imread(str(out))
    assert read is not None
    assert read.shape == img.shape == (height, width, 3)
    np.testing.assert_array_equal(read[..., ::-1], img)  # lossless RGB

    layout = vis.rank_list_layout(3, [1, 2, 1])
    assert layout['shape'] == (height, width)
    expected = [
        V.QUERY_COLOR, V.MATCH_COLOR, V.MISMATCH_COLOR, V.UNKNOWN_COLOR
    ]
    fills = [(10, 20, 30), (200, 200, 0), (0, 100, 100), (50, 50, 50)]
    for box, color, fill in zip([layout['query']] + layout['gallery'],
                                expected, fills):
        x0, y0, x1, y1 = box
        ym = (y0 + y1) // 2
        for x, y in ((x0, ym), (x1 - 1, ym), (x0 + 1, y0), (x0 + 1, y1 - 1),
                     (x0 + 2, y0 + 2)):
            assert tuple(read[y, x]) == bgr(color), (box, x, y)
        # inside the border: the frame itself
        assert tuple(read[ym, x0 + 3 + 5]) == bgr(fill)
        # the caption band above holds dark text on white
        cap = read[4:4 + 16, x0:x1]
        assert cap.min() < 128 and (cap == 255).mean() > 0.5
    assert tuple(read[0, 0]) == (255, 255, 255)


def test_rank_list_argument_checks(vis):
    with pytest.raises(ValueError, match='distances'):
        vis.draw_rank_list([solid(0)], [solid(0)], [0.1, 0.2])
    with pytest.raises(ValueError, match='match flags'):
        vis.draw_rank_list([solid(0)], [solid(0)], [0.1], [True, False])
    with pytest.raises(ValueError, match='H x W x 3'):
        vis.draw_rank_list([np.zeros((4, 4))], [solid(0)], [0.1])
    img = vis.draw_rank_list(solid(0), [solid(0)], [0.1])  # no matches
    layout = vis.rank_list_layout(1, [1])
    x0, y0, _, _ = layout['gallery'][0]
    assert tuple(img[y0, x0]) == V.UNKNOWN_COLOR


def test_heatmap_grid(vis, tmp_path):
    frames = [solid((100, 100, 100)) for _ in range(4)]
    heat = np.zeros((4, 4, 2), np.float32)
    heat[:, 0, 0] = 1
    out = tmp_path / 'grid.png'
    img = vis.add_heatmap_grid(
        'grid', frames, {
            'a': heat,
            'b': heat
        }, out_file=str(out))
    layout = vis.heatmap_grid_layout(4, 3)
    assert img.shape[:2] == layout['shape']
    read = cv2.imread(str(out))
    assert read.shape == img.shape
    x0, y0, x1, y1 = layout['tiles'][1][0]
    top_left = img[y0 + 2, x0 + 2].astype(int)
    bottom_right = img[y1 - 3, x1 - 3].astype(int)
    assert top_left[0] > top_left[2]  # hot (red) where the map is 1
    assert bottom_right[2] > bottom_right[0]  # cold (blue) elsewhere
    x0, y0, _, _ = layout['tiles'][0][0]
    assert tuple(img[y0 + 5, x0 + 5]) == (100, 100, 100)  # plain frames
    with pytest.raises(ValueError, match='maps for'):
        vis.draw_heatmap_grid(frames, {'a': heat[:2]})


def test_overlay_heatmap():
    frame = solid((0, 0, 0), 40, 20)
    heat = np.array([[0., 1.], [0., 0.]])
    out = overlay_heatmap(frame, heat, alpha=1.0)
    assert out.shape == frame.shape and out.dtype == np.uint8
    # JET: 1 -> dark red (128, 0, 0), 0 -> dark blue (0, 0, 128)
    assert tuple(out[0, -1]) == (128, 0, 0)
    assert tuple(out[-1, 0]) == (0, 0, 128)
    flat = overlay_heatmap(frame, np.ones((2, 2)), alpha=0.0)
    np.testing.assert_array_equal(flat, frame)


def jet_rgb(value):
    """OpenCV's JET colour of ``value`` in 0..255, as RGB."""
    bgr_px = cv2.applyColorMap(np.array([[value]], np.uint8),
                               cv2.COLORMAP_JET)
    return bgr_px[0, 0, ::-1].astype(int)


@pytest.mark.parametrize('normalize', [True, False])
def test_heatmap_grid_colour_bar(vis, normalize):
    frames = [solid((100, 100, 100)) for _ in range(3)]
    heat = np.random.default_rng(0).random((3, 4, 2)).astype(np.float32)
    img = vis.draw_heatmap_grid(
        frames, {'a': heat, 'b': heat}, normalize=normalize)
    layout = vis.heatmap_grid_layout(3, 3)
    assert img.shape[:2] == layout['shape']
    x0, y0, x1, y1 = layout['colorbar']
    # the bar spans the heat-map rows, right of the last tile
    assert (y0, y1) == (layout['tiles'][1][0][1], layout['tiles'][2][0][3])
    assert x0 > layout['tiles'][2][-1][2]
    mid = (x0 + x1) // 2
    np.testing.assert_allclose(img[y0, mid], jet_rgb(255), atol=1)  # top: 1
    np.testing.assert_allclose(img[y1 - 1, mid], jet_rgb(0), atol=1)
    np.testing.assert_allclose(
        img[(y0 + y1) // 2, mid], jet_rgb(128), atol=12)
    # tick labels are drawn next to it (dark text pixels on white)
    for tx0, ty0, tx1, ty1 in layout['colorbar_ticks'][::2]:
        assert img[ty0:ty1, tx0:tx1].min() < 128
    # switched off: narrower, no bar
    plain = vis.draw_heatmap_grid(
        frames, {'a': heat, 'b': heat}, normalize=normalize, colorbar=False)
    no_bar = vis.heatmap_grid_layout(3, 3, colorbar=False)
    assert no_bar['colorbar'] is None and no_bar['colorbar_ticks'] == []
    assert plain.shape[:2] == no_bar['shape']
    assert plain.shape[1] < img.shape[1]
    np.testing.assert_array_equal(plain, img[:, :plain.shape[1]])
    # no heat-map row, no bar
    assert vis.heatmap_grid_layout(3, 1)['colorbar'] is None

"""tools/visualization/vis_ranks.py on a tiny trained DCCT: one rank-list PNG
per query, whose gallery borders match the printed +/- flags."""
import importlib.util
import os
import os.path as osp

import cv2
from mmengine.config import Config

from mmdcct.registry import DATASETS
from mmdcct.visualization import VideoReIDVisualizer as V

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_vis_ranks_tool(tiny_dcct, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        '_tool_vis_ranks', osp.join(REPO, 'tools/visualization/vis_ranks.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out_dir = tmp_path / 'ranks'
    assert tool.main([
        tiny_dcct['config'], tiny_dcct['checkpoint'], '--queries', '3',
        '--topk', '6', '--out-dir',
        str(out_dir), '--device', 'cpu'
    ]) == 0
    printed = capsys.readouterr().out
    files = sorted(os.listdir(out_dir))
    assert len(files) == 3
    ds_cfg = Config.fromfile(tiny_dcct['config']).test_dataloader.dataset
    ds_cfg.pipeline = []
    dataset = DATASETS.build(ds_cfg)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    queries = [info for info in infos if info['is_query']][:3]
    colour = {
        '+': tuple(int(c) for c in V.MATCH_COLOR[::-1]),
        '-': tuple(int(c) for c in V.MISMATCH_COLOR[::-1])
    }
    for name, query in zip(files, queries):
        # cameras are labelled 1-based, as in the file names
        assert f'pid{query["pid"]:04d}_C{query["camid"] + 1}.png' in name
        line = next(ln for ln in printed.splitlines() if name in ln)
        assert f'id {query["pid"]} C{query["camid"] + 1}  [' in line
        # ... the label the frame names carry
        assert f'C{query["camid"] + 1}T' in osp.basename(
            query['img_paths'][0])
        flags = line.rsplit('[', 1)[1].rstrip(']')
        assert len(flags) == 6
        img = cv2.imread(str(out_dir / name))
        layout = V.get_instance('test_vis_ranks_layout').rank_list_layout(
            min(4, len(query['img_paths'])), [1] * 6)
        assert img.shape[:2] == layout['shape']
        # the printed +/- strings are the match flags of the drawn borders
        for (x0, y0, _, y1), flag in zip(layout['gallery'], flags):
            assert tuple(img[(y0 + y1) // 2, x0]) == colour[flag]


def test_camera_labels_are_one_based():
    from mmdcct.visualization import camera_label, rank_list_filename
    assert camera_label(0) == 'C1' and camera_label(5) == 'C6'
    assert rank_list_filename(3, 12, 1) == 'rank_q0003_pid0012_C2.png'
    assert rank_list_filename(3) == 'rank_q0003.png'

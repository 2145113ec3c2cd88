"""VideoReIDVisualizationHook in a Runner test loop and through
``tools/test.py --show-dir``: the rank-list PNGs open, have the layout's size
and border colours that match the identities."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmdcct.engine import VideoReIDVisualizationHook as Hook
from mmdcct.registry import DATASETS, HOOKS
from mmdcct.visualization import VideoReIDVisualizer as V

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

def bgr(rgb):
    return tuple(int(c) for c in rgb[::-1])


def check_png(path, num_query_frames, topk, matches=None):
    """The PNG opens, has the rank-list size, and its gallery borders are
    green / red as ``matches`` says (or at least one of the two)."""
    img = cv2.imread(path)
    assert img is not None, path
    layout = V.get_instance('test_layout_ref').rank_list_layout(
        num_query_frames, [1] * topk)
    assert img.shape[:2] == layout['shape'], path
    colours = []
    for box in layout['gallery']:
        x0, y0, x1, y1 = box
        colours.append(tuple(img[(y0 + y1) // 2, x0]))
    allowed = {bgr(V.MATCH_COLOR), bgr(V.MISMATCH_COLOR)}
    assert set(colours) <= allowed, colours
    if matches is not None:
        assert colours == [
            bgr(V.MATCH_COLOR if m else V.MISMATCH_COLOR) for m in matches
        ]
    x0, y0, _, y1 = layout['query']
    assert tuple(img[(y0 + y1) // 2, x0]) == bgr(V.QUERY_COLOR)


def first_queries(config, num):
    """The dataset infos of the first ``num`` test queries."""
    ds_cfg = Config.fromfile(config).test_dataloader.dataset
    ds_cfg.pipeline = []
    dataset = DATASETS.build(ds_cfg)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    return [info for info in infos if info['is_query']][:num]


def shown(query, num=4):
    """Query frames drawn: ``num``, or all of a shorter tracklet."""
    return min(num, len(query['img_paths']))


def test_hook_is_registered_and_idle_when_disabled():
    hook = HOOKS.build(dict(type='VideoReIDVisualizationHook'))
    assert isinstance(hook, Hook) and hook.enable is False
    assert type(hook).__module__ == \
        'mmdcct.engine.hooks.video_reid_visualization_hook'
    hook.after_test_iter(None, 0, None, outputs=[object()])
    assert hook._results == []


def test_hook_in_a_runner_test_loop(tiny_dcct, tmp_path, safe_loading):
    cfg = Config.fromfile(tiny_dcct['config'])
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = tiny_dcct['checkpoint']
    out_dir = str(tmp_path / 'show')
    cfg.default_hooks.visualization = dict(
        type='VideoReIDVisualizationHook',
        enable=True,
        out_dir=out_dir,
        num_queries=3,
        topk=5)
    cfg.log_level = 'WARNING'
    with DefaultScope.overwrite_default_scope('mmdcct'):
        runner = Runner.from_cfg(cfg)
        metrics = runner.test()
    assert 'mAP' in metrics
    hook = next(h for h in runner.hooks if isinstance(h, Hook))
    assert len(hook.written) == 3
    assert sorted(os.listdir(out_dir)) == sorted(
        osp.basename(p) for p in hook.written)
    assert osp.basename(hook.written[0]).startswith('rank_q0000_pid')
    for path, ranked in zip(hook.written, hook.rank_lists):
        query = ranked['query']
        assert query['is_query']
        for entry, match in zip(ranked['gallery'], ranked['matches']):
            assert match == (entry['pid'] == query['pid'])
            # the camera-aware protocol: no same id + same camera entry
            assert not (entry['pid'] == query['pid']
                        and entry['camid'] == query['camid'])
            assert entry['sample_idx'] != query['sample_idx']
        assert np.all(np.diff(ranked['distances']) >= -1e-6)
        check_png(path, shown(query), 5, ranked['matches'])


def test_hook_without_out_dir_uses_the_runner_backends(tiny_dcct, tmp_path,
                                                      safe_loading):
    cfg = Config.fromfile(tiny_dcct['config'])
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = tiny_dcct['checkpoint']
    cfg.default_hooks.visualization = dict(
        type='VideoReIDVisualizationHook', enable=True, num_queries=2, topk=3)
    cfg.visualizer = dict(
        type='Visualizer',
        name='hook_backend_test',
        vis_backends=[dict(type='LocalVisBackend')])
    cfg.log_level = 'WARNING'
    with DefaultScope.overwrite_default_scope('mmdcct'):
        runner = Runner.from_cfg(cfg)
        runner.test()
    image_dir = osp.join(runner.log_dir, 'vis_data', 'vis_image')
    files = sorted(os.listdir(image_dir))
    assert len(files) == 2 and files[0].startswith('rank_q0000_pid')
    for name, query in zip(files, first_queries(tiny_dcct['config'], 2)):
        check_png(osp.join(image_dir, name), shown(query), 3)


def test_test_tool_show_dir(tiny_dcct, tmp_path):
    cfg_path = tmp_path / 'with_vis_hook.py'
    cfg_path.write_text(
        f'_base_ = [{tiny_dcct["config"]!r}]\n'
        'default_hooks = dict(visualization=dict('
        "type='VideoReIDVisualizationHook', enable=False, num_queries=2,"
        ' topk=4))\n')
    show_dir = tmp_path / 'show'
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run([
        sys.executable, 'tools/test.py',
        str(cfg_path), tiny_dcct['checkpoint'], '--work-dir',
        str(tmp_path / 'work'), '--show-dir',
        str(show_dir)
    ],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert 'VideoReIDVisualizationHook: 2 rank lists' in log
    files = sorted(os.listdir(show_dir))
    assert len(files) == 2 and all(f.endswith('.png') for f in files)
    for name, query in zip(files, first_queries(tiny_dcct['config'], 2)):
        assert f'pid{query["pid"]:04d}_C{query["camid"] + 1}' in name
        check_png(str(show_dir / name), shown(query), 4)

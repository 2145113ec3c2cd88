"""The progress bar of the synthetic MARS writer and its tool: one step per
tracklet on stderr when asked (or on a terminal), silent otherwise, and the
files do not depend on it."""
import filecmp
import importlib.util
import os
import os.path as osp

import pytest

from mmdcct.testing import make_synthetic_mars

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = dict(
    num_train_ids=2,
    num_test_ids=3,
    num_cams=2,
    tracklet_len=(2, 4),
    img_size=(32, 16),
    seed=3)


def same_tree(a, b):
    cmp = filecmp.dircmp(a, b)
    assert not (cmp.left_only or cmp.right_only or cmp.diff_files)
    for sub in cmp.common_dirs:
        same_tree(osp.join(a, sub), osp.join(b, sub))


def test_progress_bar_counts_tracklets(tmp_path, capsys):
    summary = make_synthetic_mars(str(tmp_path / 'on'), progress=True, **TINY)
    out, err = capsys.readouterr()
    total = summary['num_train_tracklets'] + summary['num_test_tracklets']
    assert out == ''  # stdout stays free for the tool's JSON summary
    assert f'{total}/{total}' in err and 'elapsed' in err
    make_synthetic_mars(str(tmp_path / 'off'), progress=False, **TINY)
    assert capsys.readouterr() == ('', '')
    # default: only on a terminal (pytest's captured stderr is not one)
    make_synthetic_mars(str(tmp_path / 'auto'), **TINY)
    assert capsys.readouterr().err == ''
    same_tree(str(tmp_path / 'on'), str(tmp_path / 'off'))
    same_tree(str(tmp_path / 'on'), str(tmp_path / 'auto'))


@pytest.mark.parametrize('tty', [True, False])
def test_tool_shows_progress_on_a_terminal(tmp_path, capsys, monkeypatch,
                                           tty):
    spec = importlib.util.spec_from_file_location(
        '_tool_make_synthetic_mars',
        osp.join(REPO, 'tools', 'misc', 'make_synthetic_mars.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr('sys.stderr.isatty', lambda: tty)
    args = [
        str(tmp_path / 'cli'), '--num-train-ids', '2', '--num-test-ids', '3',
        '--num-cams', '2', '--height', '32', '--width', '16',
        '--tracklet-len', '2', '4'
    ]
    tool.main(args)
    out, err = capsys.readouterr()
    assert '"num_train_ids": 2' in out
    assert ('elapsed' in err) == tty
    tool.main(args + ['--overwrite', '--no-progress'])
    assert capsys.readouterr().err == ''
    assert os.listdir(tmp_path / 'cli' / 'bbox_test')

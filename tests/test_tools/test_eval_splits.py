"""tools/analysis_tools/eval_splits.py on the tiny synthetic iLIDS-VID
layout: one checkpoint per split, MMEngine's test loop, mean ± std."""
import importlib.util
import json
import os.path as osp

import pytest
import torch

from mmdcct.evaluation.functional import aggregate_split_metrics
from mmdcct.registry import MODELS
from mmdcct.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CONFIG = """
default_scope = 'mmdcct'
model = {model!r}
test_dataloader = dict(
    batch_size=10,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='iLIDSVID',
        data_root={data_root!r},
        split='test',
        split_id=0,
        serialize_data=False,
        pipeline=[
            dict(type='RestrictedRandomSampling', num_frames=4,
                 mode='begin'),
            dict(type='LoadTrackletFrames'),
            dict(type='PackVideoReIDInputs'),
        ]))
test_evaluator = dict(type='VideoReIDMetric')
test_cfg = dict(type='TestLoop')
env_cfg = dict(dist_cfg=dict(backend='gloo'))
"""


def _load_tool():
    path = osp.join(REPO, 'tools', 'analysis_tools', 'eval_splits.py')
    spec = importlib.util.spec_from_file_location('eval_splits_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def setup(tmp_path, synthetic_ilids_vid, tiny_video_reid_cfg):
    register_all_modules()
    model_cfg = tiny_video_reid_cfg(num_classes=5)
    config = tmp_path / 'tiny_ilids.py'
    config.write_text(
        CONFIG.format(model=model_cfg, data_root=synthetic_ilids_vid['out_dir']))
    for split in (0, 1):
        torch.manual_seed(split)
        model = MODELS.build(model_cfg)
        ckpt = tmp_path / f'x_split{split}' / 'epoch_1.pth'
        ckpt.parent.mkdir()
        torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    return str(config), str(tmp_path / 'x_split{split}' / 'epoch_1.pth')


def test_two_splits(setup, tmp_path, capsys):
    config, template = setup
    tool = _load_tool()
    out_file = str(tmp_path / 'res' / 'splits.json')
    result = tool.main([
        config, template, '--splits', '0-1', '--work-dir',
        str(tmp_path / 'wd'), '--out', out_file
    ])
    splits = result['splits']
    assert [s['split_id'] for s in splits] == [0, 1]
    assert splits[1]['checkpoint'] == template.format(split=1)
    assert osp.isdir(str(tmp_path / 'wd' / 'split1'))
    per_split = {s['split_id']: s['metrics'] for s in splits}
    assert all({'mAP', 'R1', 'R5', 'R10', 'R20'} <= set(m)
               for m in per_split.values())
    # every run evaluated its own split (the tool checks it, too)
    assert [s['dataset']['split_id'] for s in splits] == [0, 1]
    assert all(s['dataset']['split_source'] == 'file' for s in splits)
    assert all(s['dataset']['num_tracklets'] == 10 for s in splits)
    expected = aggregate_split_metrics(
        per_split, keys=['mAP', 'R1', 'R5', 'R10', 'R20'])
    assert result['summary'] == expected
    saved = json.load(open(out_file))
    assert saved['summary'] == json.loads(json.dumps(expected))
    printed = capsys.readouterr().out
    assert 'mean ± std' in printed and f'{expected["mAP"]["mean"]:.1f}' in \
        printed


def test_errors(setup, tmp_path):
    config, template = setup
    tool = _load_tool()
    with pytest.raises(FileNotFoundError, match='split 5'):
        tool.main([
            config, template, '--splits', '5', '--work-dir',
            str(tmp_path / 'wd')
        ])
    with pytest.raises(ValueError, match='must contain "{split}"'):
        tool.main([config, template.format(split=0), '--splits', '0-1'])
    with pytest.raises(ValueError, match='Bad split selection'):
        tool.main([config, template, '--splits', '3-1'])
    mars = tmp_path / 'mars.py'
    mars.write_text(
        open(config).read().replace("type='iLIDSVID'",
                                    "type='MARS'").replace('split_id=0,', ''))
    with pytest.raises(ValueError, match='no `split_id` argument'):
        tool.main([
            str(mars), template, '--splits', '0', '--work-dir',
            str(tmp_path / 'wd')
        ])

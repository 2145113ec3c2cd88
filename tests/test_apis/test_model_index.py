"""model-index.yml / configs/dcct/metafile.yml: mmpretrain's format, every
config exists and loads, the paper's numbers, and model names resolve in
VideoReIDInferencer."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.fileio import load

from mmdcct.apis import VideoReIDInferencer

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

PAPER = {
    'coupled_r50-vit-b_2xb8-50e_mars': {
        'mAP': 85.0,
        'Rank-1': 91.1
    },
    'dcct_r50-vit-b_2xb8-50e_mars': {
        'mAP': 87.5,
        'Rank-1': 92.3
    },
    'dcct_r50-vit-b_2xb8-50e_duke-video': {
        'mAP': 97.6,
        'Rank-1': 98.4
    },
    'dcct_r50-vit-b_2xb8-50e_ilids-vid': {
        'Rank-1': 91.7,
        'Rank-5': 98.6
    },
    'dcct_r50-vit-b_2xb8-50e_prid2011': {
        'Rank-1': 96.8,
        'Rank-5': 99.7
    },
}


def models():
    index = load(osp.join(REPO, 'model-index.yml'))
    assert index['Import'] == ['configs/dcct/metafile.yml']
    meta = load(osp.join(REPO, index['Import'][0]))
    assert meta['Collections'][0]['Name'] == 'DCCT'
    assert osp.isfile(osp.join(REPO, meta['Collections'][0]['README']))
    return meta['Models']


def test_metafile_rows():
    rows = {m['Name']: m for m in models()}
    assert set(PAPER) <= set(rows)
    for name, row in rows.items():
        assert row['In Collection'] == 'DCCT'
        cfg = Config.fromfile(osp.join(REPO, row['Config']))
        assert cfg.model.type == 'VideoReID'
        assert osp.splitext(osp.basename(row['Config']))[0] == name
        assert row['Metadata']['FLOPs'] > 0
        assert row['Metadata']['Parameters'] > 0
        assert row['Metadata']['Paper FLOPs'].endswith('G')
        assert 'Train' in row and 'Test' in row
        if name in PAPER:
            assert row['Results'][0]['Metrics'] == PAPER[name]


def test_inferencer_resolves_model_names():
    names = VideoReIDInferencer.list_models()
    assert 'dcct_r50-vit-b_2xb8-50e_mars' in names and 'dcct_mars' in names
    assert VideoReIDInferencer.list_models(patterns='coupled') == [
        'coupled_r50-vit-b_2xb8-50e_mars', 'coupled_r50-vit-b_mars'
    ]
    # the config's former name still resolves, to the renamed file
    assert VideoReIDInferencer.resolve_config('coupled_r50-vit-b_mars') == (
        osp.join(REPO, 'configs/dcct/coupled_r50-vit-b_2xb8-50e_mars.py'))
    assert VideoReIDInferencer.resolve_config('DCCT_MARS') == osp.join(
        REPO, 'configs/dcct/dcct_r50-vit-b_2xb8-50e_mars.py')
    with pytest.raises(FileNotFoundError, match='model-index'):
        VideoReIDInferencer.resolve_config('no_such_model')

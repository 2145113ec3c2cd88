"""The base dataset configs build working datasets on the synthetic
layouts (registry-built, with the paper's pipelines)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmdcct.registry import DATASETS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG_DIR = osp.join(REPO, 'configs', '_base_', 'datasets')


@pytest.mark.parametrize('name,fixture,type_', [
    ('duke_video.py', 'synthetic_duke', 'DukeMTMCVideoReID'),
    ('ilids_vid.py', 'synthetic_ilids_vid', 'iLIDSVID'),
    ('prid2011.py', 'synthetic_prid2011', 'PRID2011'),
])
def test_base_config_builds(name, fixture, type_, request):
    root = request.getfixturevalue(fixture)['out_dir']
    cfg = Config.fromfile(osp.join(CFG_DIR, name))
    assert cfg.dataset_type == type_ and cfg.num_frames == 8
    assert cfg.train_dataloader.batch_size == 8
    assert cfg.train_dataloader.sampler.num_instances == 2
    assert cfg.test_evaluator.distance == 'cosine'
    options = {
        'train_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root,
        'train_dataloader.dataset.serialize_data': False,
        'test_dataloader.dataset.serialize_data': False,
    }
    if type_ != 'DukeMTMCVideoReID':
        options['test_dataloader.dataset.split_id'] = 3
    # the protocol is the dataset class's, not a value inherited from MARS
    assert 'gallery_includes_query' not in cfg.test_dataloader.dataset
    cfg.merge_from_dict(options)
    init_default_scope('mmdcct')
    train = DATASETS.build(cfg.train_dataloader.dataset)
    item = train[0]
    assert item['inputs'].shape == (8, 3, 256, 128)
    assert item['inputs'].dtype == torch.uint8
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert test.gallery_includes_query is False
    if type_ != 'DukeMTMCVideoReID':
        assert test.metainfo['split_id'] == 3
        assert train.metainfo['split_id'] == 0
    item = test[0]
    assert item['inputs'].shape == (8, 3, 256, 128)
    assert item['data_samples'].is_query
    # the documented dense option
    cfg.merge_from_dict({'test_dataloader.dataset.pipeline.0.mode': 'dense'})
    dense = DATASETS.build(cfg.test_dataloader.dataset)[0]
    clips = dense['data_samples'].num_clips
    assert dense['inputs'].shape == (8 * clips, 3, 256, 128)

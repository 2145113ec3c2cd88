"""Checks shared by every video Re-ID dataset: ``data_root`` and the
gallery protocol (``gallery_includes_query``)."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmdcct.datasets import (LSVID, MARS, PRID2011, DukeMTMCVideoReID,
                             iLIDSVID)
from mmdcct.registry import DATASETS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.parametrize('cls', [MARS, DukeMTMCVideoReID, LSVID, iLIDSVID,
                                 PRID2011])
def test_data_root_is_a_file(tmp_path, cls):
    root = tmp_path / 'MARS.zip'
    root.write_bytes(b'PK\x03\x04')
    with pytest.raises(NotADirectoryError) as exc:
        cls(data_root=str(root), split='train')
    msg = str(exc.value)
    assert f'"{root}" is a file, not a directory' in msg
    assert 'does not exist' not in msg
    assert 'Set `data_root`' in msg


def test_protocol_belongs_to_the_dataset_class(synthetic_mars_root,
                                               synthetic_duke):
    init_default_scope('mmdcct')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'datasets', 'mars.py'))
    cfg.merge_from_dict({
        'val_dataloader.dataset.data_root': synthetic_mars_root,
        'val_dataloader.dataset.serialize_data': False
    })
    mars = DATASETS.build(cfg.val_dataloader.dataset)
    assert isinstance(mars, MARS) and mars.gallery_includes_query is True
    # only the type (and root) switched, as with --cfg-options
    cfg.merge_from_dict({
        'val_dataloader.dataset.type': 'DukeMTMCVideoReID',
        'val_dataloader.dataset.data_root': synthetic_duke['out_dir'],
    })
    duke = DATASETS.build(cfg.val_dataloader.dataset)
    assert isinstance(duke, DukeMTMCVideoReID)
    assert duke.gallery_includes_query is False
    assert duke.metainfo['gallery_includes_query'] is False
    assert not any(info['is_query'] and info['is_gallery']
                   for info in (duke.get_data_info(i)
                                for i in range(len(duke))))


def test_explicit_non_standard_protocol_warns(synthetic_duke,
                                              mmlogger_messages):
    ds = DukeMTMCVideoReID(
        data_root=synthetic_duke['out_dir'],
        split='test',
        gallery_includes_query=True,
        serialize_data=False)
    assert ds.gallery_includes_query is True
    warnings = [m for m in mmlogger_messages if m.startswith('WARNING')]
    assert any('gallery_includes_query=True differs from the standard '
               'DukeMTMCVideoReID protocol (False)' in m for m in warnings)


def test_protocol_value_must_be_a_bool(synthetic_mars_root):
    with pytest.raises(TypeError, match=r"gallery_includes_query must be "
                       r"True, False or None .* got 'False' \(str\)"):
        MARS(data_root=synthetic_mars_root, split='test',
             gallery_includes_query='False')

"""projects/reid_metric_elsewhere: a toy model and dataset of another scope
(mmpretrain) evaluated by ``type='mmdcct.VideoReIDMetric'`` in an MMEngine
Runner val loop, and by the functional ``evaluate_rank``."""
import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PROJECT = osp.join(REPO, 'projects', 'reid_metric_elsewhere')


@pytest.fixture(scope='module')
def run_val():
    spec = importlib.util.spec_from_file_location(
        '_reid_metric_elsewhere_run_val', osp.join(PROJECT, 'run_val.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_config_is_not_in_the_mmdcct_scope():
    cfg = Config.fromfile(osp.join(PROJECT, 'configs', 'toy_embedder_val.py'))
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.val_evaluator.type == 'mmdcct.VideoReIDMetric'
    assert cfg.model.type == 'ToyTrackletEmbedder'


def test_runner_val_loop_and_functional_agree(run_val, tmp_path):
    metrics = run_val.run_val(work_dir=str(tmp_path))
    assert set(metrics) == {'mAP', 'mINP', 'R1', 'R5', 'R10', 'R20'}
    for value in metrics.values():
        assert 0.0 <= value <= 100.0
    assert 0 < metrics['mAP'] < 100  # a non-trivial toy problem
    functional = run_val.run_functional()
    assert functional.keys() == metrics.keys()
    for key, value in metrics.items():
        assert functional[key] == pytest.approx(value, abs=1e-6), key

    # the toy parts live in mmpretrain's registries, not mmdcct's
    from mmpretrain.registry import DATASETS as PRETRAIN_DATASETS
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS

    from mmdcct.registry import MODELS
    assert PRETRAIN_MODELS.get('ToyTrackletEmbedder') is not None
    assert PRETRAIN_DATASETS.get('ToyTrackletDataset') is not None
    assert 'ToyTrackletEmbedder' not in MODELS.module_dict

"""The cross-dataset config: one test run over three synthetic datasets,
metrics prefixed per dataset and equal to evaluating each one alone."""

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner

from mmdcct.evaluation import VideoReIDMetric
from mmdcct.registry import DATASETS
from mmdcct.utils import register_all_modules

register_all_modules()

CONFIG = 'configs/dcct/dcct_demo_mars-to-duke-ilids.py'
FULL_CONFIG = 'configs/dcct/dcct_r50-vit-b_2xb8-50e_mars-to-duke-ilids.py'


def test_full_config_evaluates_three_datasets():
    cfg = Config.fromfile(FULL_CONFIG)
    sets = cfg.test_dataloader.dataset.datasets
    assert [d.type for d in sets] == ['MARS', 'DukeMTMCVideoReID', 'iLIDSVID']
    assert [d.get('gallery_includes_query') for d in sets] == [True, None,
                                                               None]
    # the paper's MARS test pipeline for every dataset
    base = Config.fromfile('configs/dcct/dcct_r50-vit-b_2xb8-50e_mars.py')
    assert all(d.pipeline == base.test_dataloader.dataset.pipeline
               for d in sets)
    assert cfg.test_evaluator.dataset_prefixes == ['mars', 'duke', 'ilids']
    assert cfg.default_hooks.checkpoint.save_best == 'mars/mAP'
    assert cfg.train_dataloader == base.train_dataloader


def test_demo_config_metrics_per_dataset(tmp_path, synthetic_mars_root,
                                         synthetic_duke, synthetic_ilids_vid):
    cfg = Config.fromfile(CONFIG)
    roots = [
        synthetic_mars_root, synthetic_duke['out_dir'],
        synthetic_ilids_vid['out_dir']
    ]
    for dataset, root in zip(cfg.test_dataloader.dataset.datasets, roots):
        dataset.data_root = root
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.batch_size = 8
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = None
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = None
    cfg.visualizer.vis_backends = []
    cfg.randomness = dict(seed=0)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()

    keys = ('mAP', 'mINP', 'R1', 'R5', 'R10', 'R20')
    assert set(metrics) == {f'{p}/{k}' for p in ('mars', 'duke', 'ilids')
                            for k in keys}

    # each dataset alone, through the same model
    model = runner.model.eval()
    for prefix, dataset_cfg in zip(('mars', 'duke', 'ilids'),
                                   cfg.test_dataloader.dataset.datasets):
        dataset = DATASETS.build(dataset_cfg)
        metric = VideoReIDMetric()
        with torch.no_grad():
            for start in range(0, len(dataset), 8):
                batch = pseudo_collate([
                    dataset[i]
                    for i in range(start, min(start + 8, len(dataset)))
                ])
                metric.process(batch, model.test_step(batch))
        alone = metric.evaluate(len(dataset))
        for key in keys:
            assert metrics[f'{prefix}/{key}'] == pytest.approx(
                alone[key], abs=1e-6), (prefix, key)

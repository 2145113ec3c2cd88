"""Evaluate the toy model of another codebase with mmdcct's metric, twice:

1. through MMEngine's Runner val loop and the config's
   ``val_evaluator = dict(type='mmdcct.VideoReIDMetric')``;
2. with the framework-free ``mmdcct.evaluation.functional.evaluate_rank``
   on the same features.

Run from the repository root::

    python projects/reid_metric_elsewhere/run_val.py
"""
import os.path as osp
import sys
from typing import Dict, Optional

import numpy as np
import torch

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
CONFIG = osp.join(HERE, 'configs', 'toy_embedder_val.py')


def run_val(work_dir: Optional[str] = None) -> Dict[str, float]:
    """The Runner's val loop; returns its metrics."""
    if REPO not in sys.path:  # custom_imports: projects.reid_metric_...
        sys.path.insert(0, REPO)
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    cfg = Config.fromfile(CONFIG)
    if work_dir is not None:
        cfg.work_dir = work_dir
    # the Runner makes its scope the current one; restore the caller's
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return Runner.from_cfg(cfg).val()


def run_functional() -> Dict[str, float]:
    """Embed the same dataset by hand and call ``evaluate_rank``."""
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from mmdcct.evaluation.functional import compute_distance, evaluate_rank
    from projects.reid_metric_elsewhere.toy_reid import (ToyTrackletDataset,
                                                         ToyTrackletEmbedder)
    cfg = dataset_args()
    dataset = ToyTrackletDataset(**cfg)
    model = ToyTrackletEmbedder(in_dims=cfg['dim'], out_dims=cfg['dim'])
    with torch.no_grad():
        feats = model([dataset[i]['inputs'] for i in range(len(dataset))],
                      mode='tensor')
    roles = dataset.roles
    q = np.array([r['is_query'] for r in roles])
    g = np.array([r['is_gallery'] for r in roles])
    pids = np.array([r['pid'] for r in roles])
    cams = np.array([r['camid'] for r in roles])
    dist = compute_distance(feats[q], feats[g], metric='cosine')
    res = evaluate_rank(dist, pids[q], pids[g], cams[q], cams[g])
    res.pop('num_valid_queries')
    res.pop('num_skipped_queries')
    return res


def dataset_args() -> dict:
    """The dataset arguments of the config (one source of truth)."""
    from mmengine.config import Config
    args = dict(Config.fromfile(CONFIG).val_dataloader.dataset)
    args.pop('type')
    return args


def main() -> int:
    metrics = run_val()
    print('Runner val loop (mmdcct.VideoReIDMetric):', metrics)
    print('evaluate_rank:', run_functional())
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""projects/dcct_on_other_backbones: the configs build DCCT models with
other mmpretrain backbones (no weight download) whose widths fit CCA, HTA
and the self-distillation head; one forward on small frames."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmdcct.registry import MODELS
from mmdcct.utils import register_all_modules, remove_pretrained_init

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    glob.glob(
        osp.join(REPO, 'projects', 'dcct_on_other_backbones', 'configs',
                 '*.py')))

register_all_modules(init_default_scope=False)

# (CNN, transformer) widths and branch types of every config
EXPECTED = {
    'dcct_convnext-t-swin-t_2xb8-50e_mars.py':
    ((768, 768), ('ConvNeXt', 'SwinTransformer')),
    'dcct_effnet-b0-deit-s_2xb8-50e_mars.py':
    ((1280, 384), ('EfficientNet', 'VisionTransformer')),
}


def test_every_config_is_listed():
    assert sorted(osp.basename(c) for c in CONFIGS) == sorted(EXPECTED)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_runs(path):
    (c1, c2), (cnn_type, trans_type) = EXPECTED[osp.basename(path)]
    cfg = Config.fromfile(path)
    # inherits the DCCT model base: the same necks and head
    assert cfg.model.spatial_neck.type == 'ComplementaryContentAttention'
    assert cfg.model.temporal_neck.type == 'HierarchicalTemporalAggregation'
    assert cfg.model.head.type == 'SelfDistillationHead'
    assert cfg.model.backbone.cnn.init_cfg.type == 'Pretrained'
    model_cfg = remove_pretrained_init(cfg.model)  # no download in tests
    model_cfg['temporal_neck']['num_frames'] = 2  # 2 frames keep it fast
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).eval()
    assert type(model.backbone.cnn).__name__ == cnn_type
    assert type(model.backbone.transformer).__name__ == trans_type
    x = torch.randn(1, 2, 3, 128, 64)
    with torch.no_grad():
        (cnn_local, cnn_global), (trans_local, trans_global) = \
            model.backbone(x.flatten(0, 1))
        assert cnn_local.shape[-1] == cnn_global.shape[-1] == c1
        assert trans_local.shape[-1] == trans_global.shape[-1] == c2
        feats = model(x, mode='tensor')
    video = cfg.model.head.video_channels
    assert feats.shape == (1, 2 * (c1 + c2) + video)  # 'all'
    assert torch.isfinite(feats).all()

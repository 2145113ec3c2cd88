"""projects/dcct_on_other_backbones: the configs build DCCT models with
other mmpretrain / timm backbones (no weight download) whose widths the
necks and the head take from the backbones; one forward on small frames;
the two demo configs that change one branch only train."""
import glob
import os.path as osp
from typing import Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from mmdcct.registry import DATASETS, MODELS
from mmdcct.utils import register_all_modules, remove_pretrained_init

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PROJECT = osp.join(REPO, 'projects', 'dcct_on_other_backbones', 'configs')
CONFIGS = sorted(glob.glob(osp.join(PROJECT, '*.py')))
DEMO = osp.join(REPO, 'configs', 'dcct', 'dcct_demo.py')

register_all_modules(init_default_scope=False)

# (CNN, transformer) widths and branch types of every config
EXPECTED = {
    'dcct_convnext-t-swin-t_2xb8-50e_mars.py':
    ((768, 768), ('ConvNeXt', 'SwinTransformer')),
    'dcct_effnet-b0-deit-s_2xb8-50e_mars.py':
    ((1280, 384), ('EfficientNet', 'VisionTransformer')),
    'dcct_r50-timm-vit-s_2xb8-50e_mars.py':
    ((2048, 384), ('ResNet', 'TIMMBackbone')),
    'dcct_mbv2-vit_demo.py': ((1280, 192), ('MobileNetV2',
                                            'VisionTransformer')),
    'dcct_r18-timm-vit_demo.py': ((512, 192), ('ResNet', 'TIMMBackbone')),
}
# the demo configs that change one branch of dcct_demo.py and nothing else
ONE_BRANCH = {
    'dcct_mbv2-vit_demo.py': 'cnn',
    'dcct_r18-timm-vit_demo.py': 'transformer',
}


def test_every_config_is_listed():
    assert sorted(osp.basename(c) for c in CONFIGS) == sorted(EXPECTED)


def _offline(model_cfg: dict) -> dict:
    """The model config without any weight download."""
    model_cfg = remove_pretrained_init(model_cfg)
    for branch in ('cnn', 'transformer'):
        if model_cfg['backbone'][branch].get('pretrained'):
            model_cfg['backbone'][branch]['pretrained'] = False  # timm
    return model_cfg


def _frame_size(cfg: Config):
    resize = [
        t for t in cfg.test_dataloader.dataset.pipeline[2]['transforms']
        if t['type'] == 'mmcv.Resize'
    ][0]
    width, height = resize['scale']
    return height, width


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_runs(path):
    (c1, c2), (cnn_type, trans_type) = EXPECTED[osp.basename(path)]
    cfg = Config.fromfile(path)
    # the same necks and head as DCCT, with no width set by hand
    assert cfg.model.spatial_neck.type == 'ComplementaryContentAttention'
    assert cfg.model.temporal_neck.type == 'HierarchicalTemporalAggregation'
    assert cfg.model.head.type == 'SelfDistillationHead'
    assert 'in_channels' not in cfg.model.spatial_neck
    assert 'in_channels' not in cfg.model.temporal_neck
    assert not [k for k in cfg.model.head if k.endswith('_channels')]
    model_cfg = _offline(cfg.model)
    model_cfg['temporal_neck']['num_frames'] = 2  # 2 frames keep it fast
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).eval()
    assert type(model.backbone.cnn).__name__ == cnn_type
    assert type(model.backbone.transformer).__name__ == trans_type
    assert model.backbone.out_channels == (c1, c2)
    assert model.spatial_neck.in_channels == (c1, c2)
    assert model.temporal_neck.in_channels == (c1, c2)
    video = model.temporal_neck.out_channels
    height, width = _frame_size(cfg)
    x = torch.randn(1, 2, 3, height, width)
    with torch.no_grad():
        (cnn_local, cnn_global), (trans_local, trans_global) = \
            model.backbone(x.flatten(0, 1))
        assert cnn_local.shape[-1] == cnn_global.shape[-1] == c1
        assert trans_local.shape[-1] == trans_global.shape[-1] == c2
        trans = model.backbone.transformer
        if trans_type == 'TIMMBackbone':
            grid = trans.timm_model.patch_embed.grid_size
        elif trans_type == 'VisionTransformer':
            grid = trans.patch_resolution
        if trans_type in ('VisionTransformer', 'TIMMBackbone'):
            # the patch tokens only: no class token among them
            assert trans_local.shape[1] == grid[0] * grid[1]
        feats = model(x, mode='tensor')
    assert feats.shape == (1, 2 * (c1 + c2) + video)  # 'all'
    assert torch.isfinite(feats).all()


@pytest.mark.parametrize('name', sorted(ONE_BRANCH))
def test_one_branch_demo_configs_change_nothing_else(name):
    cfg = Config.fromfile(osp.join(PROJECT, name)).to_dict()
    demo = Config.fromfile(DEMO).to_dict()
    branch = ONE_BRANCH[name]
    assert cfg['model']['backbone'][branch] != demo['model']['backbone'][
        branch]
    cfg['model']['backbone'][branch] = demo['model']['backbone'][branch]
    for key in ('filename', 'text'):  # where the config came from
        cfg.pop(key, None)
        demo.pop(key, None)
    assert cfg == demo


@pytest.mark.parametrize('name', sorted(ONE_BRANCH))
def test_one_branch_demo_configs_train(name, synthetic_mars):
    cfg = Config.fromfile(osp.join(PROJECT, name))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)  # no key changed
    with DefaultScope.overwrite_default_scope('mmdcct'):
        dataset = DATASETS.build(
            dict(cfg.train_dataloader.dataset,
                 data_root=synthetic_mars['out_dir']))
    by_pid: Dict[int, List[int]] = {}
    for idx in range(len(dataset)):
        by_pid.setdefault(dataset.get_data_info(idx)['pid'], []).append(idx)
    picked = [i for idxs in list(by_pid.values())[:2] for i in idxs[:2]]
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    model.train()
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    for _ in range(2):  # two iterations
        batch = pseudo_collate([dataset[i] for i in picked])
        losses = model.train_step(batch, optim)
        assert {'loss_ld', 'loss_fd'} <= set(losses)
        assert all(torch.isfinite(v).all() for v in losses.values())
    changed = [k for k, v in model.backbone.state_dict().items()
               if v.is_floating_point() and not torch.equal(v, before[k])]
    assert any(k.startswith(f'{ONE_BRANCH[name]}.') for k in changed)

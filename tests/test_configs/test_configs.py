"""Every config under configs/ (except _base_) loads, builds without
downloading weights and is self-consistent (registered types, T of the
sampler vs HTA, branch widths vs neck / head widths, identity counts)."""
import glob
import os
import os.path as osp
from typing import Dict, List, Tuple

import pytest
import torch
from mmengine.config import Config

from mmdcct.datasets.transforms import FRAME_SAMPLING_TYPES
from mmdcct.registry import (DATA_SAMPLERS, DATASETS, EVALUATORS, METRICS,
                             MODELS, TRANSFORMS)
from mmdcct.utils import register_all_modules
from mmdcct.utils.config_utils import remove_pretrained_init
from mmdcct.utils.complexity import find_type_dicts

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_ROOT = osp.join(REPO, 'configs')
CONFIGS = sorted(
    osp.relpath(path, REPO)
    for path in glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True)
    if '_base_' not in path.split(os.sep))

#: Training identities of each dataset (per split for iLIDS-VID / PRID).
NUM_TRAIN_IDS = {
    'MARS': 625,
    'DukeMTMCVideoReID': 702,
    'iLIDSVID': 150,
    'PRID2011': 89,
    'LSVID': 842,
}

OPENMMLAB_URL = 'https://download.openmmlab.com/'
#: The DCCT authors' starting weights (configs/_base_/models/pretrained/).
AUTHORS_WEIGHTS = (
    'https://download.pytorch.org/models/resnet50-19c8e357.pth',
    'timm-vit://https://github.com/rwightman/pytorch-image-models/releases/'
    'download/v0.1-vitjx/jx_vit_base_p16_224-80ecf9dd.pth')


def load(path: str) -> Config:
    return Config.fromfile(osp.join(REPO, path))


def transform_types(pipeline: List[dict]) -> List[str]:
    """Types of a pipeline's transforms, nested ones included."""
    types = []
    for step in pipeline:
        types.append(step['type'])
        types.extend(transform_types(step.get('transforms', [])))
    return types


def is_demo(path: str) -> bool:
    return 'demo' in osp.basename(path)


def branches(model_cfg: dict) -> List[Tuple[str, dict]]:
    """``(name, cfg)`` of each backbone branch of a model config."""
    backbone = model_cfg['backbone']
    if backbone['type'] == 'SingleBackbone':
        return [('backbone', backbone['backbone'])]
    return [('cnn', backbone['cnn']), ('transformer', backbone['transformer'])]


def test_configs_are_found():
    names = {osp.basename(p) for p in CONFIGS}
    for required in ('dcct_r50-vit-b_2xb8-50e_mars.py', 'dcct_mars.py',
                     'dcct_demo.py', 'dcct_r50-vit-b_1xb32-adam-400e_mars.py',
                     'dcct_r50-vit-b_2xb8-50e_duke-video.py',
                     'dcct_r50-vit-b_2xb8-50e_ilids-vid.py',
                     'dcct_r50-vit-b_2xb8-50e_prid2011.py'):
        assert required in names
    assert sum(p.startswith('configs/dcct/ablations/') for p in CONFIGS) >= 20


def test_remove_pretrained_init_leaves_nothing_to_download():
    cfg = load('configs/dcct/ablations/coupled_densenet121-swin-l_'
               '2xb8-50e_mars.py')
    assert find_type_dicts(cfg.model.to_dict(), 'Pretrained')
    stripped = remove_pretrained_init(cfg.model)
    assert not find_type_dicts(stripped, 'Pretrained')
    assert 'Pretrained' not in repr(stripped)
    assert find_type_dicts(cfg.model.to_dict(), 'Pretrained')  # input left as it was


@pytest.mark.parametrize('path', CONFIGS)
def test_data_settings_are_registered_and_consistent(path):
    cfg = load(path)
    frame_counts = set()
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader) is None:
            # the deployable backbones-only configs test, never train
            assert loader == 'train_dataloader' and cfg.model.head is None
            continue
        dataset = cfg[loader]['dataset']
        assert DATASETS.get(dataset['type']) is not None, (
            f"{loader}.dataset.type={dataset['type']!r} is not registered")
        sampler = cfg[loader].get('sampler')
        if sampler is not None:
            assert DATA_SAMPLERS.get(sampler['type']) is not None, sampler
        # a ConcatVideoReIDDataset: the datasets it concatenates
        for part in dataset.get('datasets', []):
            assert DATASETS.get(part['type']) is not None, part['type']
        pipeline = sum((d['pipeline']
                        for d in dataset.get('datasets', [dataset])), [])
        for name in transform_types(pipeline):
            assert TRANSFORMS.get(name) is not None, (
                f'{loader}: transform {name!r} is not registered')
        for name in FRAME_SAMPLING_TYPES:
            for sampling in find_type_dicts(pipeline, name):
                frame_counts.add(sampling['num_frames'])
    for evaluator in ('val_evaluator', 'test_evaluator'):
        metrics = cfg[evaluator]
        if 'metrics' in metrics:  # an evaluator, e.g. MultiDatasetEvaluator
            assert EVALUATORS.get(metrics['type']) is not None, metrics
            metrics = metrics['metrics']
        for metric in metrics if isinstance(metrics, list) else [metrics]:
            assert METRICS.get(metric['type']) is not None, metric
    # one T for train and test, and HTA's position embeddings built for it
    assert len(frame_counts) == 1, frame_counts
    neck = cfg.model.get('temporal_neck')
    if neck is not None and neck.get('num_frames') is not None:
        assert neck['num_frames'] == frame_counts.pop(), (
            'temporal_neck.num_frames differs from the sampler\'s num_frames')
    # the classifier covers the training identities
    if not is_demo(path) and cfg.model.get('head') is not None:
        dataset_type = cfg.train_dataloader.dataset.type
        assert cfg.model.head.num_classes == NUM_TRAIN_IDS[dataset_type]


_BRANCH_WIDTHS: Dict[str, Tuple[int, ...]] = {}


def branch_widths(model: torch.nn.Module, cfg: Config) -> Tuple[int, ...]:
    """Channels of each branch's global feature on one test-size frame."""
    key = repr(remove_pretrained_init(cfg.model.backbone))
    if key not in _BRANCH_WIDTHS:
        test_set = cfg.test_dataloader.dataset
        test_set = test_set.get('datasets', [test_set])[0]
        resize = find_type_dicts(test_set.pipeline, 'mmcv.Resize')
        width, height = resize[0]['scale']
        model.backbone.eval()
        with torch.no_grad():
            feats = model.backbone(torch.zeros(1, 3, height, width))
        _BRANCH_WIDTHS[key] = tuple(glob.shape[-1] for _, glob in feats)
    return _BRANCH_WIDTHS[key]


@pytest.mark.parametrize('path', CONFIGS)
def test_model_builds_without_downloads_and_widths_match(path):
    cfg = load(path)
    model_cfg = cfg.model.to_dict()

    # real pretrained weights in every branch (the demos train from scratch;
    # the backbones-only deploy configs get all weights from the stripped
    # checkpoint)
    headless = model_cfg.get('head') is None
    for name, branch in branches(model_cfg):
        init = branch.get('init_cfg')
        if is_demo(path) or headless:
            assert init is None, f'{name}: the demo must not download'
            continue
        assert init and init['type'] == 'Pretrained', name
        assert (init['checkpoint'].startswith(OPENMMLAB_URL)
                or init['checkpoint'] in AUTHORS_WEIGHTS), init
        if init['checkpoint'].startswith('timm-vit://'):
            # the authors resize the 14x14 grid bilinearly
            assert branch.get('interpolate_mode') == 'bilinear', name
        assert init['checkpoint'].endswith('.pth'), init

    model = MODELS.build(remove_pretrained_init(model_cfg))
    assert type(model).__name__ == 'VideoReID'

    widths = branch_widths(model, cfg)
    head = model.head
    if head is None:  # deployable backbones only: the 'base' feature
        assert model.spatial_neck is None and model.temporal_neck is None
        assert model.test_cfg['feature'] == 'base'
        return
    if type(head).__name__ == 'BNNeckHead':
        assert head.in_channels == widths
        assert model.spatial_neck is None and model.temporal_neck is None
        return
    assert head.base_channels == widths
    spatial = model.spatial_neck
    if spatial is not None:
        assert spatial.in_channels == widths
        assert head.spatial_channels == widths  # CCA / SAP keep the widths
    temporal = model.temporal_neck
    if temporal is None:
        assert head.final_channels is None
        assert head.loss_ld is None and head.loss_fd is None
        assert model.test_cfg['feature'] != 'final'
    else:
        assert temporal.in_channels == widths
        assert head.final_channels == temporal.out_channels


ABLATIONS = 'configs/dcct/ablations/'


def test_ablation_readme_maps_each_config_to_one_row():
    import re
    with open(osp.join(REPO, ABLATIONS, 'README.md')) as f:
        readme = f.read()
    rows = [
        line for line in readme.split('Rows that evaluate')[0].splitlines()
        if line.startswith('| Tab.') or line.startswith('| Fig.')
    ]
    listed = [re.findall(r'`((?:\.\./)?[\w.-]+\.py)`', row) for row in rows]
    assert all(len(names) == 1 for names in listed), 'one config per row'
    own = sorted(n[0] for n in listed if not n[0].startswith('../'))
    assert own == sorted(
        osp.basename(p) for p in CONFIGS if p.startswith(ABLATIONS))
    for name in re.findall(r'`((?:\.\./)?[\w.-]+_mars\.py)`', readme):
        assert osp.isfile(osp.join(REPO, ABLATIONS, name)), name


@pytest.mark.parametrize('name, switches, test_cfg', [
    # Tab. VI: one head removed in one branch, that branch's CCA feature
    ('coupled-cca-nosh-r50', dict(self_head=(False, True), cross_head=True),
     dict(feature='spatial', branch='cnn')),
    ('coupled-cca-nosh-vit', dict(self_head=(True, False), cross_head=True),
     dict(feature='spatial', branch='transformer')),
    ('coupled-cca-noch-r50', dict(self_head=True, cross_head=(False, True)),
     dict(feature='spatial', branch='cnn')),
    ('coupled-cca-noch-vit', dict(self_head=True, cross_head=(True, False)),
     dict(feature='spatial', branch='transformer')),
    # Tab. VII: one HTA layer
    ('coupled-cca-hta-depth1-tt',
     dict(depth=1, aggregate_transformer=False, gated_attention=False),
     dict(feature='all')),
    ('coupled-cca-hta-depth1-tt-at',
     dict(depth=1, aggregate_transformer=True, gated_attention=False),
     dict(feature='all')),
    ('coupled-cca-hta-depth1-tt-at-ga',
     dict(depth=1, aggregate_transformer=True, gated_attention=True,
          first_layer_gate=True), dict(feature='all')),
])
def test_tab6_tab7_configs_switch_their_row(name, switches, test_cfg):
    cfg = load(f'{ABLATIONS}{name}_r50-vit-b_2xb8-50e_mars.py')
    neck = cfg.model.spatial_neck if 'depth' not in switches else (
        cfg.model.temporal_neck)
    for key, value in switches.items():
        assert neck[key] == value, key
    for key, value in test_cfg.items():
        assert cfg.model.test_cfg[key] == value, key
    # no self-distillation in the Tab. VI / VII rows
    assert cfg.model.head.loss_ld is None and cfg.model.head.loss_fd is None


def test_baseline_configs_supervise_per_frame_and_freeze_the_vit_shift():
    for path in CONFIGS:
        cfg = load(path)
        head = cfg.model.get('head')
        if head is None or head.type != 'BNNeckHead':
            continue
        assert head.supervision == 'frame', path
        if cfg.model.backbone.type == 'CoupledBackbone':
            assert tuple(head.freeze_bias) == (False, True), path

"""The R50 + ViT-B configs start from the authors' weights (torchvision's
ResNet-50, the original 224 px ViT-B/16 via ``timm-vit://``); mmpretrain's
pair is a one-line ``_base_`` switch; torchvision's ResNet-50 file loads into
mmpretrain's ResNet through the config's ``init_cfg``."""
import copy
import os.path as osp

import torch
import torchvision
from mmengine.config import Config

from mmdcct.registry import MODELS
from mmdcct.utils import register_all_modules
from mmdcct.utils.complexity import find_type_dicts
from mmdcct.utils.config_utils import remove_pretrained_init

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODELS_BASE = osp.join(REPO, 'configs', '_base_', 'models')
R50_URL = 'https://download.pytorch.org/models/resnet50-19c8e357.pth'
VIT_URL = ('https://github.com/rwightman/pytorch-image-models/releases/'
           'download/v0.1-vitjx/jx_vit_base_p16_224-80ecf9dd.pth')


def load(*parts: str) -> Config:
    return Config.fromfile(osp.join(REPO, *parts))


def test_paper_config_starts_from_the_authors_pair():
    cfg = load('configs', 'dcct', 'dcct_mars.py')
    cnn = cfg.model.backbone.cnn
    vit = cfg.model.backbone.transformer
    assert cnn.init_cfg == dict(type='Pretrained', checkpoint=R50_URL)
    assert vit.init_cfg == dict(
        type='Pretrained', checkpoint='timm-vit://' + VIT_URL)
    assert vit.interpolate_mode == 'bilinear'
    assert tuple(cnn.strides) == (1, 2, 2, 1)

    stripped = remove_pretrained_init(cfg.model)
    assert not find_type_dicts(stripped, 'Pretrained')
    assert 'timm-vit://' not in repr(stripped)


def test_mmpretrain_pair_is_a_one_line_base_switch(tmp_path):
    with open(osp.join(MODELS_BASE, 'coupled_r50-vit-b.py')) as f:
        text = f.read()
    line = "_base_ = ['./pretrained/authors_r50-vit-b.py']"
    assert text.count(line) == 1
    switched = tmp_path / 'coupled_mmpretrain.py'
    switched.write_text(
        text.replace(
            line, '_base_ = [%r]' %
            osp.join(MODELS_BASE, 'pretrained', 'mmpretrain_r50-vit-b.py')))
    default = Config.fromfile(osp.join(MODELS_BASE, 'coupled_r50-vit-b.py'))
    other = Config.fromfile(str(switched))

    cnn, vit = other.model.backbone.cnn, other.model.backbone.transformer
    assert cnn.init_cfg.prefix == vit.init_cfg.prefix == 'backbone.'
    assert cnn.init_cfg.checkpoint.startswith('https://download.openmmlab')
    assert 'in1k-384' in vit.init_cfg.checkpoint
    assert vit.interpolate_mode == 'bicubic'
    # nothing else changes
    a, b = default.model.to_dict(), other.model.to_dict()
    for model in (a, b):
        for branch in ('cnn', 'transformer'):
            model['backbone'][branch].pop('init_cfg')
        model['backbone']['transformer'].pop('interpolate_mode')
    assert a == b


def randomised_torchvision_resnet50() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torchvision.models.resnet50()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.num_batches_tracked.fill_(7)
    return model.eval()


def test_torchvision_resnet50_file_loads_via_the_config(
        tmp_path, mmlogger_messages):
    tv = randomised_torchvision_resnet50()
    path = tmp_path / 'resnet50_tv.pth'
    torch.save(tv.state_dict(), path)

    cnn_cfg = copy.deepcopy(
        load('configs', 'dcct', 'dcct_mars.py').model.backbone.cnn)
    cnn_cfg.init_cfg.checkpoint = str(path)
    resnet = MODELS.build(cnn_cfg)
    resnet.init_weights()
    resnet.eval()

    # every conv / bn tensor (and BN buffer) landed under the same name
    tv_sd = tv.state_dict()
    mm_sd = resnet.state_dict()
    assert set(tv_sd) - set(mm_sd) == {'fc.weight', 'fc.bias'}
    assert set(mm_sd) <= set(tv_sd)
    for key, value in mm_sd.items():
        assert torch.equal(value, tv_sd[key]), key
    # one line for the unused classifier, nothing else
    warnings = [m for m in mmlogger_messages if m.startswith('WARNING')]
    assert len(warnings) == 1, warnings
    assert 'unexpected key in source state_dict: fc.weight, fc.bias' in (
        warnings[0])
    assert not any('missing keys' in m for m in mmlogger_messages)

    # the same trunk: torchvision's with the last stride set to 1 (the
    # config's strides=(1, 2, 2, 1), as the authors do)
    tv.layer4[0].conv2.stride = (1, 1)
    tv.layer4[0].downsample[0].stride = (1, 1)
    x = torch.randn(1, 3, 256, 128)
    with torch.no_grad():
        ref = tv.layer4(tv.layer3(tv.layer2(tv.layer1(tv.maxpool(
            tv.relu(tv.bn1(tv.conv1(x))))))))
        out = resnet(x)[0]
    assert out.shape == ref.shape == (1, 2048, 16, 8)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)

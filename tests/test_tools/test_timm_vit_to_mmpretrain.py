"""tools/model_converters/timm_vit_to_mmpretrain.py: a timm ViT file becomes
a state dict that MMEngine's plain ``Pretrained`` loads into mmpretrain's
VisionTransformer, optionally with the grid resized bilinearly."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import pytest
import timm
import torch
import torch.nn.functional as F
from mmpretrain.models import VisionTransformer

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'model_converters',
                'timm_vit_to_mmpretrain.py')


def _load_tool():
    spec = importlib.util.spec_from_file_location('timm_vit_to_mmpretrain',
                                                  TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope='module')
def timm_tiny(tmp_path_factory):
    torch.manual_seed(0)
    model = timm.create_model('vit_tiny_patch16_224', pretrained=False)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.02)
    path = tmp_path_factory.mktemp('timm') / 'vit_tiny.pth'
    torch.save(model.eval().state_dict(), path)
    return model, str(path)


def test_cli_converts_and_plain_pretrained_loads_it(timm_tiny, tmp_path):
    model, in_file = timm_tiny
    out_file = str(tmp_path / 'vit_tiny_mmpretrain.pth')
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, TOOL, in_file, out_file],
                          cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'wrote 150 tensors' in proc.stdout
    assert 'dropped head.weight, head.bias' in proc.stdout

    mm = VisionTransformer(
        arch='deit-tiny',
        img_size=224,
        out_type='raw',
        init_cfg=dict(type='Pretrained', checkpoint=out_file))
    mm.init_weights()
    mm.eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(mm(x)[0], model.forward_features(x))


def test_img_size_resizes_the_grid_bilinearly(timm_tiny, tmp_path):
    model, in_file = timm_tiny
    out_file = str(tmp_path / 'vit_tiny_256x128.pth')
    summary = tool.main([in_file, out_file, '--img-size', '256', '128'])
    assert summary['grid'] == ((14, 14), (16, 8))

    pos = model.state_dict()['pos_embed']
    ref = F.interpolate(
        pos[:, 1:].reshape(1, 14, 14, -1).permute(0, 3, 1, 2),
        size=(16, 8),
        mode='bilinear',
        align_corners=False).flatten(2).transpose(1, 2)
    saved = torch.load(out_file)['pos_embed']
    assert saved.shape == (1, 129, 192)
    assert torch.equal(saved[:, :1], pos[:, :1])
    assert (saved[:, 1:] - ref).abs().max().item() <= 1e-6

    # already at 16x8: the model's (bicubic) interpolate_mode is not used
    mm = VisionTransformer(
        arch='deit-tiny',
        img_size=(256, 128),
        init_cfg=dict(type='Pretrained', checkpoint=out_file))
    mm.init_weights()
    assert torch.equal(mm.pos_embed.detach(), saved)


def test_bad_inputs_exit_with_a_message(timm_tiny, tmp_path, capsys):
    _, in_file = timm_tiny
    with pytest.raises(SystemExit):
        tool.main([str(tmp_path / 'missing.pth'), str(tmp_path / 'o.pth')])
    assert 'not found' in capsys.readouterr().err

    with pytest.raises(SystemExit):
        tool.main([in_file, in_file])
    assert 'equals the input' in capsys.readouterr().err

    mm_names = tmp_path / 'mm.pth'
    torch.save(VisionTransformer(arch='deit-tiny').state_dict(), mm_names)
    with pytest.raises(SystemExit):
        tool.main([str(mm_names), str(tmp_path / 'o.pth')])
    assert 'mmpretrain names already' in capsys.readouterr().err

    with pytest.raises(SystemExit):
        tool.main([in_file, str(tmp_path / 'o.pth'), '--img-size', '250',
                   '128'])
    assert 'multiple of the patch size' in capsys.readouterr().err
    assert not osp.exists(tmp_path / 'o.pth')

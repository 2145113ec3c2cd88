"""tools/deployment/pytorch2onnx.py on the demo-size DCCT (random weights):
the ONNX features equal PyTorch's, the batch axis is dynamic, the input
contract is in the file's metadata, and what cannot be exported is refused.
"""
import json
import logging
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger

from mmdcct.apis import init_model

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs/dcct/dcct_demo.py')
DEMO_BACKBONES = osp.join(REPO, 'configs/dcct/dcct_demo_backbones.py')
sys.path.insert(0, osp.join(REPO, 'tools', 'deployment'))

import pytorch2onnx  # noqa: E402
from pytorch2onnx import ExportError, main, read_metadata  # noqa: E402

import onnxruntime  # noqa: E402


def _checkpoint(tmp_path, config, name, cfg_options=None):
    """Random weights of ``config`` saved as a checkpoint."""
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    torch.manual_seed(0)
    options = dict(model=dict(init_cfg=None))
    options.update(cfg_options or {})
    model = init_model(config, None, cfg_options=options)
    path = str(tmp_path / f'{name}.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return path


@pytest.fixture(scope='module')
def demo_ckpt(tmp_path_factory):
    return _checkpoint(tmp_path_factory.mktemp('ckpt'), DEMO, 'demo')


def _run(session, inputs):
    return session.run(None, {'inputs': inputs.numpy()})[0]


@pytest.mark.parametrize('feature,dim', [('base', 512 + 192),
                                         ('all', 704 + 704 + 256)])
def test_export_matches_pytorch(tmp_path, demo_ckpt, feature, dim):
    out = str(tmp_path / f'{feature}.onnx')
    meta = main([DEMO, demo_ckpt, out, '--feature', feature])
    # the tool's own verification: export batch 2 and one more (dynamic)
    assert [v['shape'][0] for v in meta['verify']] == [2, 3]
    assert all(v['max_rel'] <= 1e-4 for v in meta['verify'])

    # independently: a new batch size, against the public test path of the
    # checkpoint's model
    model = init_model(DEMO, demo_ckpt)
    model.test_cfg['feature'] = feature
    inputs = torch.randn(3, 4, 3, 64, 32, generator=torch.Generator()
                         .manual_seed(1))
    with torch.no_grad():
        ref = model(inputs, mode='tensor').numpy()
    session = onnxruntime.InferenceSession(
        out, providers=['CPUExecutionProvider'])
    got = _run(session, inputs)
    assert got.shape == (3, dim)
    rel = np.abs(got - ref).max() / np.abs(ref).max()
    assert rel <= 1e-4

    stored = read_metadata(out)
    assert stored['feature'] == feature
    assert int(stored['feature_dim']) == dim
    assert (stored['num_frames'], stored['height'],
            stored['width']) == ('4', '64', '32')
    assert stored['channel_order'] == 'RGB'
    assert json.loads(stored['mean']) == pytest.approx(
        [123.675, 116.28, 103.53])
    assert json.loads(stored['std']) == pytest.approx(
        [58.395, 57.12, 57.375])
    assert json.loads(stored['dynamic_axes']) == ['batch']
    assert 'outside the graph' in stored['multi_clip']


def test_dynamic_axes_where_the_model_allows(tmp_path, demo_ckpt):
    # 'all' goes through HTA (temporal position embeddings for T=4) and the
    # ViT (patch position embeddings): only the batch axis is dynamic
    out = str(tmp_path / 'all_dynamic.onnx')
    meta = main([DEMO, demo_ckpt, out, '--feature', 'all', '--dynamic',
                 '--no-verify'])
    assert json.loads(meta['dynamic_axes']) == ['batch']
    assert any(n.startswith('frames axis fixed') for n in meta['notes'])
    session = onnxruntime.InferenceSession(
        out, providers=['CPUExecutionProvider'])
    with pytest.raises(Exception):  # the graph really is fixed to T=4
        _run(session, torch.randn(1, 8, 3, 64, 32))


def test_dynamic_frames_and_size_of_a_cnn(tmp_path):
    # a ResNet-18 alone: T, H and W dynamic, verified at 8 frames of 96x48
    config = tmp_path / 'r18_demo.py'
    config.write_text(
        f'_base_ = [{DEMO_BACKBONES!r}]\n'
        'model = dict(backbone=dict(\n'
        '    _delete_=True, type="SingleBackbone", global_type="avg",\n'
        '    backbone=dict(type="mmpretrain.ResNet", depth=18,\n'
        '                  strides=(1, 2, 2, 1), out_indices=(3, ))))\n')
    ckpt = _checkpoint(tmp_path, str(config), 'r18')
    out = str(tmp_path / 'r18.onnx')
    meta = main([str(config), ckpt, out, '--dynamic'])
    assert json.loads(meta['dynamic_axes']) == [
        'batch', 'frames', 'height', 'width'
    ]
    assert meta['notes'] == []
    assert meta['verify'][-1]['shape'] == [3, 8, 3, 96, 48]
    assert meta['verify'][-1]['max_rel'] <= 1e-4


def test_refusals(tmp_path, demo_ckpt, monkeypatch):
    out = str(tmp_path / 'x.onnx')
    # a head-less model has no BN-neck features
    with pytest.raises(ExportError, match="'all'.*needs a head"):
        main([DEMO_BACKBONES, demo_ckpt, out, '--feature', 'all'])
    with pytest.raises(ExportError, match='not-a-stage'):
        main([DEMO, demo_ckpt, out, '--feature', 'not-a-stage'])
    with pytest.raises(ExportError, match='checkpoint file not found'):
        main([DEMO, str(tmp_path / 'missing.pth'), out])
    # the attention layers need scaled_dot_product_attention (opset 14)
    with pytest.raises(ExportError, match='opset 13 is too old'):
        main([DEMO, demo_ckpt, out, '--feature', 'base', '--opset', '13'])
    # ...and what the exporter itself rejects comes back as ExportError
    monkeypatch.setattr(pytorch2onnx, 'MIN_OPSET', 1)
    with pytest.raises(ExportError,
                       match='cannot export.*scaled_dot_product_attention'):
        main([DEMO, demo_ckpt, out, '--feature', 'base', '--opset', '13',
              '--no-verify'])
    # the optional packages name the extra to install
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)
    with pytest.raises(ImportError, match=r'\.\[deploy\]'):
        main([DEMO, demo_ckpt, out])

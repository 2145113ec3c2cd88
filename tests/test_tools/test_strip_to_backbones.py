"""tools/model_converters/strip_to_backbones.py and the backbones-only
configs: a stripped DCCT checkpoint gives exactly the full model's
``feature='base'`` test features, in-process and through tools/test.py."""
import argparse
import importlib.util
import os
import os.path as osp
import pickle
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.runner.checkpoint import get_state_dict, weights_to_cpu

import mmdcct
from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from mmdcct.utils import UnsafeCheckpointError, register_all_modules
from mmdcct.utils.config_utils import remove_pretrained_init

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'model_converters', 'strip_to_backbones.py')
DEMO = osp.join(REPO, 'configs', 'dcct', 'dcct_demo.py')
DEMO_BB = osp.join(REPO, 'configs', 'dcct', 'dcct_demo_backbones.py')
FULL = osp.join(REPO, 'configs', 'dcct', 'dcct_r50-vit-b_2xb8-50e_mars.py')
FULL_BB = osp.join(REPO, 'configs', 'dcct',
                   'dcct-backbones_r50-vit-b_2xb8-50e_mars.py')

# demo frames: T=4 frames of 64x32; base feature = 512 (R18) + 192 (ViT)
T, H, W = 4, 64, 32
BASE_DIM = 512 + 192


def _load_tool():
    spec = importlib.util.spec_from_file_location('strip_to_backbones', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def build(config: str, **test_cfg) -> torch.nn.Module:
    cfg = Config.fromfile(config)
    if test_cfg:
        cfg.model.test_cfg = dict(cfg.model.test_cfg, **test_cfg)
    return MODELS.build(remove_pretrained_init(cfg.model))


def run(cmd):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    return subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True)


def features(model, inputs, mode='tensor'):
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=inputs))
        if mode == 'predict':
            return torch.stack([
                ds.pred_feature
                for ds in model(**data, mode='predict')
            ])
        return model.extract_test_feat(data['inputs'])


@pytest.fixture(scope='module')
def train_ckpt(tmp_path_factory):
    """One Adam step of the demo DCCT, saved as MMEngine's Runner does
    (meta + state_dict + optimizer + message_hub + param_schedulers)."""
    torch.manual_seed(0)
    model = build(DEMO)
    model.init_weights()
    optim_wrapper = build_optim_wrapper(
        model, dict(optimizer=dict(type='Adam', lr=1e-3)))
    inputs = torch.randint(0, 256, (4, T, 3, H, W), dtype=torch.uint8)
    samples = [VideoReIDDataSample().set_gt_label(i // 2) for i in range(4)]
    model.train()
    log_vars = model.train_step(
        dict(inputs=inputs, data_samples=samples), optim_wrapper)
    hub = MessageHub.get_instance('test_strip_to_backbones')
    hub.update_scalar('train/loss', float(log_vars['loss'].detach()))
    cfg = Config.fromfile(DEMO)
    ckpt = dict(
        meta=dict(
            cfg=cfg.pretty_text,
            seed=0,
            epoch=1,
            iter=1,
            dataset_meta=dict(dataset_name='MARS'),
            mmdcct_version=mmdcct.__version__),
        state_dict=weights_to_cpu(get_state_dict(model)),
        optimizer=optim_wrapper.state_dict(),
        message_hub=hub.state_dict(),
        param_schedulers=[])
    path = str(tmp_path_factory.mktemp('strip') / 'epoch_1.pth')
    torch.save(ckpt, path)
    model.eval()
    return dict(path=path, model=model, ckpt=ckpt)


@pytest.fixture(scope='module')
def stripped(train_ckpt, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('stripped')
    path = str(out_dir / 'backbones.pth')
    summary = tool.strip_checkpoint(train_ckpt['path'], path)
    return dict(path=path, summary=summary, out_dir=str(out_dir))


def test_kept_keys_are_exactly_the_backbone_keys(train_ckpt, stripped):
    full_sd = train_ckpt['ckpt']['state_dict']
    assert not any(k.startswith('data_preprocessor') for k in full_sd), (
        'mean / std must stay non-persistent buffers')
    out = torch.load(stripped['path'], weights_only=True)
    assert set(out) == {'meta', 'state_dict'}
    backbone_keys = [k for k in full_sd if k.startswith('backbone.')]
    assert list(out['state_dict']) == backbone_keys
    for key in backbone_keys:
        assert torch.equal(out['state_dict'][key], full_sd[key]), key
        assert out['state_dict'][key].dtype == full_sd[key].dtype
    summary = stripped['summary']
    assert summary['kept_keys'] == len(backbone_keys)
    assert summary['dropped_keys'] == len(full_sd) - len(backbone_keys)
    assert summary['dropped_prefixes'] == [
        'head', 'spatial_neck', 'temporal_neck'
    ]
    assert summary['dropped_sections'] == [
        'message_hub', 'optimizer', 'param_schedulers'
    ]
    assert summary['kept_params'] == sum(
        v.numel() for v in out['state_dict'].values())
    assert summary['kept_params'] + summary['dropped_params'] == sum(
        v.numel() for v in full_sd.values())
    meta = out['meta']
    assert meta['stripped_to'] == 'backbones'
    assert meta['source_file'] == 'epoch_1.pth'
    assert meta['kept_keys'] == len(backbone_keys)
    assert meta['dropped_keys'] == summary['dropped_keys']
    assert meta['mmdcct_version'] == mmdcct.__version__
    assert meta['dataset_meta'] == dict(dataset_name='MARS')
    assert 'cfg' not in meta  # small provenance only
    assert summary['out_file_bytes'] < summary['in_file_bytes']
    # atomic write: no temporary file left next to the output
    assert os.listdir(stripped['out_dir']) == ['backbones.pth']


def test_stripped_model_gives_identical_base_features(train_ckpt, stripped):
    full = train_ckpt['model']
    full.test_cfg['feature'] = 'base'
    small = build(DEMO_BB)
    assert small.head is None and small.spatial_neck is None
    assert small.temporal_neck is None
    assert small.test_cfg['feature'] == 'base'
    state = torch.load(stripped['path'], weights_only=True)['state_dict']
    small.load_state_dict(state, strict=True)
    torch.manual_seed(1)
    inputs = torch.randint(0, 256, (3, T, 3, H, W), dtype=torch.uint8)
    try:
        ref = features(full, inputs)
        assert ref.shape == (3, BASE_DIM)
        torch.testing.assert_close(
            features(small, inputs), ref, rtol=0, atol=0)
        torch.testing.assert_close(
            features(small, inputs, 'predict'),
            features(full, inputs, 'predict'),
            rtol=0,
            atol=0)
        full.test_cfg['feature'] = 'all'  # the full model's default
        assert features(full, inputs).shape[1] > BASE_DIM
    finally:
        full.test_cfg['feature'] = 'all'
    # the other feature modes need the head and say so
    small.test_cfg['feature'] = 'all'
    with pytest.raises(ValueError, match='needs a head'):
        features(small, inputs)


def test_half_halves_tensor_bytes_and_keeps_features_close(
        train_ckpt, stripped, tmp_path):
    path = str(tmp_path / 'backbones_fp16.pth')
    summary = tool.strip_checkpoint(train_ckpt['path'], path, half=True)
    fp32 = torch.load(stripped['path'], weights_only=True)['state_dict']
    fp16 = torch.load(path, weights_only=True)['state_dict']
    assert list(fp16) == list(fp32)
    float_bytes = int_bytes = 0
    for key, value in fp32.items():
        if value.is_floating_point():
            assert fp16[key].dtype == torch.float16, key
            float_bytes += value.numel() * value.element_size()
        else:  # BN's num_batches_tracked stays int64
            assert fp16[key].dtype == value.dtype, key
            assert torch.equal(fp16[key], value)
            int_bytes += value.numel() * value.element_size()
    assert summary['kept_tensor_bytes'] == float_bytes // 2 + int_bytes
    assert stripped['summary']['kept_tensor_bytes'] == float_bytes + int_bytes
    assert (summary['out_file_bytes'] <
            0.55 * stripped['summary']['out_file_bytes'])
    assert torch.load(path, weights_only=True)['meta']['dtype'] == 'float16'

    small = build(DEMO_BB)
    small.load_state_dict(fp16, strict=True)  # cast back to float32
    assert all(p.dtype == torch.float32 for p in small.parameters())
    small32 = build(DEMO_BB)
    small32.load_state_dict(fp32, strict=True)
    torch.manual_seed(2)
    inputs = torch.randint(0, 256, (2, T, 3, H, W), dtype=torch.uint8)
    ref = features(small32, inputs)
    got = features(small, inputs)
    assert not torch.equal(got, ref)
    cos = torch.nn.functional.cosine_similarity(got, ref, dim=1)
    assert (cos > 0.999).all(), cos
    torch.testing.assert_close(
        got, ref, rtol=1e-2, atol=1e-2 * ref.abs().max().item())


def test_keep_meta_keeps_the_training_meta(train_ckpt, tmp_path):
    path = str(tmp_path / 'bb.pth')
    tool.strip_checkpoint(train_ckpt['path'], path, keep_meta=True)
    meta = torch.load(path, weights_only=True)['meta']
    src = train_ckpt['ckpt']['meta']
    assert meta['cfg'] == src['cfg'] and meta['seed'] == 0
    assert meta['stripped_to'] == 'backbones'
    assert meta['source_epoch'] == 1


def test_bare_and_wrapped_state_dicts(train_ckpt, tmp_path):
    full_sd = train_ckpt['ckpt']['state_dict']
    backbone_keys = [k for k in full_sd if k.startswith('backbone.')]
    bare = str(tmp_path / 'bare.pth')
    torch.save({f'module.{k}': v for k, v in full_sd.items()}, bare)
    out = str(tmp_path / 'sub' / 'bb.pth')  # the folder is created
    summary = tool.strip_checkpoint(bare, out)
    saved = torch.load(out, weights_only=True)
    assert list(saved['state_dict']) == backbone_keys
    assert summary['dropped_sections'] == []
    assert saved['meta']['source_epoch'] is None
    assert 'dataset_meta' not in saved['meta']


def test_errors(train_ckpt, tmp_path):
    with pytest.raises(FileNotFoundError, match='not found'):
        tool.strip_checkpoint(str(tmp_path / 'missing.pth'),
                              str(tmp_path / 'out.pth'))
    assert not osp.exists(tmp_path / 'out.pth')

    no_backbone = str(tmp_path / 'no_backbone.pth')
    torch.save(
        dict(
            state_dict=dict({
                'neck.fc.weight': torch.zeros(2, 2),
                'head.fc.bias': torch.zeros(2)
            }),
            meta={}), no_backbone)
    with pytest.raises(tool.StripError,
                       match=r"no 'backbone\.' keys.*'head\.', 'neck\.'"):
        tool.strip_checkpoint(no_backbone, str(tmp_path / 'out.pth'))
    assert not osp.exists(tmp_path / 'out.pth')
    assert os.listdir(tmp_path) == ['no_backbone.pth']  # no temp file

    before = osp.getsize(train_ckpt['path'])
    same = osp.join(osp.dirname(train_ckpt['path']), '.', 'epoch_1.pth')
    with pytest.raises(tool.StripError, match='equals the input'):
        tool.strip_checkpoint(train_ckpt['path'], same)
    assert osp.getsize(train_ckpt['path']) == before

    unsafe = str(tmp_path / 'unsafe.pth')
    torch.save(dict(state_dict={}, meta=dict(args=argparse.Namespace(a=1))),
               unsafe)
    with pytest.raises(UnsafeCheckpointError, match='argparse.Namespace'):
        tool.strip_checkpoint(unsafe, str(tmp_path / 'out.pth'))


def test_failed_write_keeps_the_old_output(train_ckpt, tmp_path,
                                           monkeypatch):
    out = tmp_path / 'bb.pth'
    out.write_bytes(b'old')

    def broken_save(*args, **kwargs):
        raise OSError('disk full')

    monkeypatch.setattr(tool.torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        tool.strip_checkpoint(train_ckpt['path'], str(out))
    assert out.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['bb.pth']


def test_cli_end_to_end(train_ckpt, tmp_path):
    out = str(tmp_path / 'bb_fp16.pth')
    proc = run([sys.executable, TOOL, train_ckpt['path'], out, '--half'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = torch.load(out, weights_only=True)['state_dict']
    assert all(k.startswith('backbone.') for k in state)
    n_keep = len(state)
    assert f'kept    {n_keep} keys' in proc.stdout
    assert 'dropped checkpoint sections: message_hub, optimizer, ' \
        'param_schedulers' in proc.stdout
    assert 'MiB' in proc.stdout and 'size ratio output / input: 0.' \
        in proc.stdout



def test_cli_errors_exit_with_a_message(tmp_path, capsys):
    out = str(tmp_path / 'out.pth')
    for argv, message in (
        ([str(tmp_path / 'nope.pth'), out], 'input checkpoint not found'),
        ([out, out], 'the output path equals the input'),
    ):
        with pytest.raises(SystemExit) as exc:
            tool.main(argv)
        assert exc.value.code == 1
        assert f'strip_to_backbones: error: {message}' in \
            capsys.readouterr().err


TEST_CONFIG = """
_base_ = [{base!r}]
data_root = {data_root!r}
_test_pipeline = [
    dict(type='RestrictedRandomSampling', num_frames=4, mode='begin'),
    dict(type='LoadTrackletFrames'),
    dict(type='TrackletBroadcaster', transforms=[
        dict(type='mmcv.Resize', scale=(32, 64), keep_ratio=False)]),
    dict(type='PackVideoReIDInputs'),
]
test_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=_test_pipeline))
val_dataloader = test_dataloader
"""


def test_test_tool_on_stripped_checkpoint(train_ckpt, stripped, tmp_path,
                                          synthetic_mars_root):
    """tools/test.py: the backbones config + stripped checkpoint gives the
    same per-tracklet features as the full config + training checkpoint
    with feature='base'."""
    preds = {}
    for name, base, ckpt, extra in (
        ('bb', DEMO_BB, stripped['path'], []),
        ('full', DEMO, train_ckpt['path'],
         ['--cfg-options', 'model.test_cfg.feature=base']),
    ):
        config = tmp_path / f'{name}.py'
        config.write_text(
            TEST_CONFIG.format(base=base, data_root=synthetic_mars_root))
        out = tmp_path / f'{name}.pkl'
        proc = run([
            sys.executable, 'tools/test.py',
            str(config), ckpt, '--work-dir',
            str(tmp_path / name), '--out',
            str(out)
        ] + extra)
        log = proc.stdout + proc.stderr
        assert proc.returncode == 0, log[-5000:]
        assert 'mAP' in log
        if name == 'bb':
            assert 'missing keys' not in log, log[-3000:]
            assert 'unexpected key' not in log, log[-3000:]
        with open(out, 'rb') as f:
            preds[name] = pickle.load(f)
    assert len(preds['bb']) == len(preds['full']) > 0
    for bb, full in zip(preds['bb'], preds['full']):
        assert bb['pred_feature'].shape == (BASE_DIM, )
        torch.testing.assert_close(
            bb['pred_feature'], full['pred_feature'], rtol=0, atol=0)


def without_init(cfg):
    """A config without its ``init_cfg=None`` entries."""
    if hasattr(cfg, 'to_dict'):
        cfg = cfg.to_dict()
    if isinstance(cfg, dict):
        return {
            k: without_init(v)
            for k, v in cfg.items() if not (k == 'init_cfg' and v is None)
        }
    return cfg


def test_backbone_configs_load_and_drop_the_necks_and_head():
    for path, base in ((DEMO_BB, DEMO), (FULL_BB, FULL)):
        cfg, full = Config.fromfile(path), Config.fromfile(base)
        model = cfg.model
        assert model.head is None and model.test_cfg.feature == 'base'
        assert model.spatial_neck is None and model.temporal_neck is None
        for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                    'param_scheduler'):
            assert cfg[key] is None, key
        # the same backbones as the full config, minus pretrained init
        assert (without_init(model.backbone) ==
                without_init(remove_pretrained_init(full.model.backbone)))
        assert model.data_preprocessor == full.model.data_preprocessor
        assert cfg.test_dataloader == full.test_dataloader
        assert cfg.test_evaluator == full.test_evaluator
        assert 'Pretrained' not in repr(model)


def test_full_backbones_config_builds_only_the_backbones():
    cfg = Config.fromfile(FULL_BB)
    model = MODELS.build(cfg.model.to_dict())  # no init_cfg to strip
    names = [n for n, _ in model.named_parameters()]
    assert names and all(n.startswith('backbone.') for n in names)
    assert {n.split('.')[1] for n in names} == {'cnn', 'transformer'}
    assert set(model.state_dict()) == {
        'backbone.' + k
        for k in model.backbone.state_dict()
    }
    num = sum(p.numel() for p in model.parameters())
    assert 105e6 < num < 115e6, num  # ResNet-50 (23.5M) + ViT-B/16 (86M)
    model.eval()
    with torch.no_grad():
        feats = model.extract_test_feat(torch.zeros(1, 1, 3, 256, 128))
    assert feats.shape == (1, 2048 + 768)

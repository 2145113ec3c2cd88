"""The command-line behaviour of tools/train.py, tools/test.py and the
launch scripts: the distributed backend, the order of ``--cfg-options``,
failed downloads, ``--resume`` with nothing to resume, checkpoints of
another model, paths with spaces, and a rank killed by the OOM killer."""
import importlib.util
import os
import os.path as osp
import re
import shlex
import shutil
import subprocess
import sys
from argparse import Namespace

import pytest
import torch
from mmengine.config import Config

from test_train_test_tools import REPO, free_port, write_tiny_config

from mmdcct.utils.checkpoint_safety import CheckpointDownloadError
from mmdcct.utils.dist_utils import resolve_dist_backend


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'_tool_{name}', osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(cmd, env=None, **kwargs):
    """Run ``cmd`` in the repo; return ``(returncode, stdout + stderr)``."""
    full_env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    full_env.update(env or {})
    proc = subprocess.run(
        cmd, cwd=REPO, env=full_env, capture_output=True, text=True,
        **kwargs)
    return proc.returncode, proc.stdout + proc.stderr


def closed_port_url(name):
    """An http URL nobody listens on: the download fails at once."""
    return f'http://127.0.0.1:{free_port()}/checkpoints/{name}'


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory, synthetic_mars):
    return write_tiny_config(
        tmp_path_factory.mktemp('cli_cfg'), synthetic_mars['out_dir'],
        synthetic_mars['num_train_ids'])


def train_args(**kwargs):
    args = dict(
        config='cfg.py', work_dir=None, resume=None, amp=False,
        no_validate=False, auto_scale_lr=False, no_pin_memory=False,
        no_persistent_workers=False, cfg_options=None, launcher='none')
    args.update(kwargs)
    return Namespace(**args)


# ---------------------------------------------------------------- backend


def test_default_runtime_leaves_backend_to_the_machine():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/default_runtime.py'))
    assert cfg.env_cfg.dist_cfg.backend is None
    for demo in ('dcct_demo.py', 'coupled_demo.py'):
        cfg = Config.fromfile(osp.join(REPO, 'configs/dcct', demo))
        assert cfg.env_cfg.dist_cfg.backend is None, demo


@pytest.mark.parametrize('value', [None, 'auto', 'missing'])
def test_unset_backend_is_nccl_with_cuda_gloo_without(value):
    for cuda, expected in ((True, 'nccl'), (False, 'gloo')):
        cfg = Config(dict(env_cfg=dict(dist_cfg=dict(timeout=60))))
        if value != 'missing':
            cfg.env_cfg.dist_cfg.backend = value
        assert resolve_dist_backend(cfg, cuda=cuda) == expected
        assert cfg.env_cfg.dist_cfg.backend == expected
        assert cfg.env_cfg.dist_cfg.timeout == 60


def test_explicit_backend_wins():
    for backend in ('nccl', 'gloo', 'mpi'):
        for cuda in (True, False):
            cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend=backend))))
            assert resolve_dist_backend(cfg, cuda=cuda) is None
            assert cfg.env_cfg.dist_cfg.backend == backend


def test_explicit_nccl_without_cuda_is_a_clear_error(monkeypatch):
    from mmdcct.utils import setup_cpu_distributed
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    with pytest.raises(RuntimeError, match='backend is .nccl.*gloo'):
        setup_cpu_distributed(cfg, 'pytorch')


# ------------------------------------------------- --cfg-options come last


def test_cfg_options_num_workers_0_turns_persistent_workers_off():
    train = load_tool('train')
    cfg = Config.fromfile(osp.join(REPO, 'configs/dcct/coupled_demo.py'))
    assert cfg.train_dataloader.num_workers == 2
    cfg = train.merge_args(
        cfg,
        train_args(cfg_options={
            'train_dataloader.num_workers': 0,
            'test_dataloader.num_workers': 0
        }))
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.test_dataloader.persistent_workers is False
    # with workers the tool's default stays
    assert cfg.val_dataloader.num_workers == 2
    assert cfg.val_dataloader.persistent_workers is True


def test_cfg_options_override_what_the_flags_set():
    train = load_tool('train')
    cfg = Config.fromfile(osp.join(REPO, 'configs/dcct/coupled_demo.py'))
    cfg = train.merge_args(
        cfg,
        train_args(
            work_dir='from_flag', no_pin_memory=True,
            cfg_options={
                'work_dir': 'from_cfg_options',
                'train_dataloader.pin_memory': True
            }))
    assert cfg.work_dir == 'from_cfg_options'
    assert cfg.train_dataloader.pin_memory is True
    assert cfg.val_dataloader.pin_memory is False


def test_no_validate_with_val_overrides_merges():
    train = load_tool('train')
    cfg = Config.fromfile(osp.join(REPO, 'configs/dcct/coupled_demo.py'))
    cfg = train.merge_args(
        cfg,
        train_args(
            no_validate=True,
            cfg_options={
                'train_dataloader.dataset.data_root': 'x',
                'val_dataloader.dataset.data_root': 'x',
                'test_dataloader.dataset.data_root': 'x'
            }))
    assert cfg.val_cfg is None and cfg.val_dataloader is None
    assert cfg.val_evaluator is None
    assert cfg.test_dataloader.dataset.data_root == 'x'


def test_train_no_validate_num_workers_0_and_val_overrides(
        tmp_path, synthetic_mars_root):
    # the config keeps coupled_demo's num_workers=2 (persistent workers by
    # default); the README's val/test data_root overrides with --no-validate
    cfg = tmp_path / 'workers.py'
    cfg.write_text(
        f'_base_ = [{osp.join(REPO, "configs/dcct/coupled_demo.py")!r}]\n'
        'model = dict(backbone=dict(transformer=dict(arch=dict('
        'embed_dims=32, num_layers=1, num_heads=2, '
        'feedforward_channels=64))), head=dict(num_classes=6))\n'
        'train_dataloader = dict(batch_size=4, sampler=dict('
        'num_instances=2))\n'
        'train_cfg = dict(max_epochs=1)\n')
    root = synthetic_mars_root
    rc, log = run_tool([
        sys.executable, 'tools/train.py',
        str(cfg), '--no-validate', '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        'train_dataloader.num_workers=0',
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}'
    ])
    assert rc == 0, log[-4000:]
    assert osp.isfile(tmp_path / 'work' / 'epoch_1.pth')
    assert 'Epoch(val)' not in log


# ------------------------------------------------------ failed downloads


def test_pretrained_checkpoints_names_every_key():
    train = load_tool('train')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/dcct/dcct_r50-vit-b_2xb8-50e_mars.py'))
    found = dict(train.pretrained_checkpoints(cfg))
    cnn = found['model.backbone.cnn.init_cfg.checkpoint']
    vit = found['model.backbone.transformer.init_cfg.checkpoint']
    assert train._refers_to(cnn, cnn)
    # the timm-vit:// prefix loads the URL behind it
    assert vit.startswith('timm-vit://')
    url = vit[len('timm-vit://'):]
    assert train._refers_to(vit, url) and not train._refers_to(cnn, url)
    from mmengine.runner.checkpoint import get_torchvision_models
    resnet50 = get_torchvision_models()['resnet50']
    assert train._refers_to('torchvision://resnet50', resnet50)
    assert not train._refers_to('torchvision://resnet18', resnet50)


def test_http_loader_raises_one_clear_download_error(tmp_path, monkeypatch):
    from mmdcct.utils.checkpoint_safety import _load_from_http
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    url = closed_port_url('resnet18-f37072fd.pth')
    with pytest.raises(CheckpointDownloadError) as info:
        _load_from_http(url)
    message = str(info.value)
    assert url in message and 'URLError' in message
    cached = osp.join(str(tmp_path / 'torch'), 'hub', 'checkpoints',
                      'resnet18-f37072fd.pth')
    assert cached in message and '$TORCH_HOME' in message
    named = info.value.with_keys(['model.backbone.cnn.init_cfg.checkpoint'])
    assert ("model.backbone.cnn.init_cfg.checkpoint='/path/to/"
            "resnet18-f37072fd.pth'") in str(named)
    assert '--cfg-options model.backbone.cnn.init_cfg=None' in str(named)


def test_dist_train_download_failure_names_url_key_and_fixes(
        tiny_config, tmp_path):
    url = closed_port_url('resnet18-f37072fd.pth')
    cfg = tmp_path / 'pretrained.py'
    cfg.write_text(f'_base_ = [{tiny_config!r}]\n'
                   'model = dict(backbone=dict(cnn=dict(init_cfg=dict('
                   f"type='Pretrained', checkpoint={url!r}))))\n")
    rc, log = run_tool(
        [
            'bash', 'tools/dist_train.sh',
            str(cfg), '2', '--work-dir',
            str(tmp_path / 'work')
        ],
        env=dict(PORT=str(free_port()), TORCH_HOME=str(tmp_path / 'th')))
    assert rc != 0
    key = 'model.backbone.cnn.init_cfg.checkpoint'
    message = re.search(r'Could not download the checkpoint .*\n.*\n.*',
                        log)
    assert message, log[-4000:]
    message = message.group(0)
    assert url in message and f'set by {key}' in message
    assert osp.join(str(tmp_path / 'th'), 'hub', 'checkpoints',
                    'resnet18-f37072fd.pth') in message
    assert f"{key}='/path/to/resnet18-f37072fd.pth'" in message
    assert '--cfg-options model.backbone.cnn.init_cfg=None' in message
    # the other rank stops with a pointer to it, not a process-group error
    assert f'stopped: could not download {url}' in log
    assert 'Connection closed by peer' not in log
    assert log.index('Could not download') < log.index('stopped: could not')


# ------------------------------------------------------------- --resume


def test_resume_with_nothing_to_resume_starts_from_scratch(
        tiny_config, tmp_path):
    work_dir = str(tmp_path / 'fresh')
    rc, log = run_tool([
        sys.executable, 'tools/train.py', tiny_config, '--work-dir', work_dir,
        '--resume', '--cfg-options', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1'
    ])
    assert rc == 0, log[-4000:]
    assert (f'--resume: no checkpoint found in {work_dir} (no '
            'last_checkpoint file): starting from scratch.') in log
    assert 'latest checkpoint None' not in log
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


def test_resume_from_a_missing_file_is_an_error(tiny_config, tmp_path):
    missing = str(tmp_path / 'epoch_9.pth')
    rc, log = run_tool([
        sys.executable, 'tools/train.py', tiny_config, '--work-dir',
        str(tmp_path), '--resume', missing
    ])
    assert rc != 0
    assert f'--resume {missing}: no such checkpoint file' in log


def test_resume_with_a_dangling_last_checkpoint_is_an_error(tmp_path):
    train = load_tool('train')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    cfg = Config(dict(resume=True, load_from=None, work_dir=str(tmp_path)))
    with pytest.raises(FileNotFoundError, match='epoch_3.pth, which does '
                       'not exist'):
        train.check_resume(cfg)


# --------------------------------------------------------- paths, OOM


def test_scripts_quote_paths_with_spaces(tiny_config, tmp_path):
    spaced = tmp_path / 'my configs'
    spaced.mkdir()
    cfg = spaced / 'tiny config.py'
    shutil.copy(tiny_config, cfg)
    work_dir = str(tmp_path / 'work dir')
    rc, log = run_tool(
        [
            'bash', 'tools/dist_train.sh',
            str(cfg), '1', '--work-dir', work_dir, '--cfg-options',
            'train_cfg.max_epochs=1', 'train_cfg.val_interval=1'
        ],
        env=dict(PORT=str(free_port())))
    assert rc == 0, log[-4000:]
    ckpt = osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(ckpt)
    rc, log = run_tool(
        [
            'bash', 'tools/dist_test.sh',
            str(cfg), ckpt, '1', '--work-dir',
            str(tmp_path / 'test dir')
        ],
        env=dict(PORT=str(free_port())))
    assert rc == 0, log[-4000:]
    assert re.search(r'Epoch\(test\).*mAP: [\d.]+', log)


def test_slurm_train_passes_paths_with_spaces_as_one_argument(tmp_path):
    # a stand-in srun that writes its arguments, one per line
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text('#!/usr/bin/env bash\n'
                    'printf "%s\\n" "$@" > "$SRUN_ARGS_OUT"\n')
    srun.chmod(0o755)
    out = tmp_path / 'args.txt'
    rc, log = run_tool(
        [
            'bash', 'tools/slurm_train.sh', 'part', 'job',
            'my configs/a b.py', 'work dir/x', '--cfg-options',
            'train_cfg.max_epochs=1'
        ],
        env=dict(
            PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
            SRUN_ARGS_OUT=str(out),
            SRUN_ARGS='--quotatype=auto --nodes=1'))
    assert rc == 0, log
    args = out.read_text().splitlines()
    assert args[-5:] == [
        'my configs/a b.py', '--work-dir=work dir/x', '--launcher=slurm',
        '--cfg-options', 'train_cfg.max_epochs=1'
    ]
    assert '--quotatype=auto' in args and '--nodes=1' in args
    assert args[args.index('-p') + 1] == 'part'


def test_dist_train_explains_a_rank_killed_by_sigkill(tiny_config, tmp_path):
    # what the OOM killer does: SIGKILL one rank
    (tmp_path / 'sigkill_hook.py').write_text(
        'import os, signal\n'
        'from mmengine.hooks import Hook\n'
        'from mmengine.registry import HOOKS\n'
        '@HOOKS.register_module()\n'
        'class SigkillHook(Hook):\n'
        '    def before_train(self, runner):\n'
        '        os.kill(os.getpid(), signal.SIGKILL)\n')
    cfg = tmp_path / 'killed.py'
    cfg.write_text(f'_base_ = [{tiny_config!r}]\n'
                   "custom_imports = dict(imports=['sigkill_hook'])\n"
                   "custom_hooks = [dict(type='SigkillHook')]\n")
    rc, log = run_tool(
        ['bash', 'tools/dist_train.sh',
         str(cfg), '1', '--work-dir',
         str(tmp_path / 'work')],
        env=dict(
            PORT=str(free_port()),
            PYTHONPATH=f'{REPO}{os.pathsep}{tmp_path}'))
    assert rc != 0
    assert 'Signal 9 (SIGKILL)' in log, log[-4000:]
    assert ('a rank was killed with SIGKILL (exitcode -9), most likely by '
            'the out-of-memory killer') in log
    assert 'train_dataloader.batch_size' in log


# ------------------------------------------- test.py and foreign weights


@pytest.fixture(scope='module')
def trained_tiny(tiny_config, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('cli_work'))
    rc, log = run_tool([
        sys.executable, 'tools/train.py', tiny_config, '--work-dir', work_dir,
        '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1'
    ])
    assert rc == 0, log[-4000:]
    return osp.join(work_dir, 'epoch_1.pth')


@pytest.fixture(scope='module')
def classifier_checkpoint(tmp_path_factory):
    """The checkpoint of another model: an mmpretrain ResNet-18
    classifier (``backbone.conv1.weight`` ...)."""
    from mmpretrain.models import ResNet
    state = {f'backbone.{k}': v
             for k, v in ResNet(depth=18).state_dict().items()}
    path = str(tmp_path_factory.mktemp('foreign') / 'resnet18_cls.pth')
    torch.save(dict(state_dict=state, meta=dict()), path)
    return path


def test_test_tool_refuses_checkpoint_of_another_model(
        tiny_config, classifier_checkpoint, tmp_path):
    rc, log = run_tool([
        sys.executable, 'tools/test.py', tiny_config, classifier_checkpoint,
        '--work-dir',
        str(tmp_path)
    ])
    assert rc != 0
    match = re.search(
        r'checkpoint (\S+) leaves (\d+) of the (\d+) backbone tensors of the '
        r'model unloaded \((\d+) missing, e\.g\. backbone\.', log)
    assert match, log[-4000:]
    assert match.group(1) == classifier_checkpoint
    assert int(match.group(2)) == int(match.group(3)) == int(match.group(4))
    assert '--allow-partial-checkpoint' in log
    assert 'mAP' not in log.split('leaves')[-1]


def test_test_tool_allow_partial_checkpoint_evaluates_with_warning(
        tiny_config, classifier_checkpoint, tmp_path):
    rc, log = run_tool([
        sys.executable, 'tools/test.py', tiny_config, classifier_checkpoint,
        '--work-dir',
        str(tmp_path), '--allow-partial-checkpoint'
    ])
    assert rc == 0, log[-4000:]
    assert 'backbone tensors of the model unloaded' in log
    assert re.search(r'Epoch\(test\).*mAP: [\d.]+', log)


def test_unloaded_backbone_tensors_counts_missing_and_mismatched(
        trained_tiny, tiny_config):
    test = load_tool('test')
    from mmdcct.apis import init_model
    from mmdcct.utils import checkpoint_allow_list
    model = init_model(tiny_config, trained_tiny)
    with checkpoint_allow_list():
        ckpt = torch.load(trained_tiny, weights_only=True)
    total, missing, mismatched = test.unloaded_backbone_tensors(model, ckpt)
    assert total > 0 and missing == [] and mismatched == []
    state = ckpt['state_dict']
    key = 'backbone.transformer.pos_embed'
    state[key] = state[key][:, :3]
    dropped = [k for k in state if k.startswith('backbone.cnn.layer4')]
    for k in dropped:
        del state[k]
    _, missing, mismatched = test.unloaded_backbone_tensors(
        model, dict(state_dict={f'module.{k}': v
                                for k, v in state.items()}))
    assert sorted(missing) == sorted(
        k for k in dropped if not k.endswith('num_batches_tracked'))
    assert [m[0] for m in mismatched] == [key]


def test_test_tool_accepts_its_own_checkpoint(trained_tiny, tiny_config,
                                              tmp_path):
    rc, log = run_tool([
        sys.executable, 'tools/test.py', tiny_config, trained_tiny,
        '--work-dir',
        str(tmp_path), '--cfg-options', 'test_dataloader.num_workers=0'
    ])
    assert rc == 0, log[-4000:]
    assert 'backbone tensors of the model unloaded' not in log


# ------------------------------------------ the README's smoke command

#: Tiny branches for the flagship config (same frames, sampler and necks):
#: the suite runs the README command with this child config, the real R50 +
#: ViT-B model is run by hand (numbers in the README).
SMOKE_TINY_BRANCHES = """
_base_ = [{flagship!r}]
model = dict(
    backbone=dict(
        cnn=dict(stem_channels=8, base_channels=8, depth=18),
        transformer=dict(
            arch=dict(_delete_=True, embed_dims=32, num_layers=1,
                      num_heads=2, feedforward_channels=64))),
    temporal_neck=dict(embed_dims=32, num_heads=2))
"""


def readme_smoke_command():
    with open(osp.join(REPO, 'README.md')) as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(
        'python tools/train.py configs/dcct/dcct_mars.py --no-validate'))
    command = ''
    for line in lines[start:]:
        command += line.rstrip('\\').strip() + ' '
        if not line.endswith('\\'):
            break
    return shlex.split(command)


def test_readme_smoke_command_trains_the_flagship_config(
        tmp_path, synthetic_mars):
    argv = readme_smoke_command()
    assert argv[:3] == ['python', 'tools/train.py',
                        'configs/dcct/dcct_mars.py']
    options = argv[argv.index('--cfg-options') + 1:]
    assert 'model.backbone.cnn.init_cfg=None' in options
    assert 'model.backbone.transformer.init_cfg=None' in options
    assert '--no-validate' in argv
    # the same command on the suite's tiny data with tiny branches
    tiny = tmp_path / 'dcct_mars_tiny_branches.py'
    tiny.write_text(
        SMOKE_TINY_BRANCHES.format(
            flagship=osp.join(REPO, 'configs/dcct/dcct_mars.py')))
    substitutions = {
        'configs/dcct/dcct_mars.py': str(tiny),
        'work_dirs/dcct_mars_smoke': str(tmp_path / 'work'),
        'train_dataloader.dataset.data_root=data/demo/MARS':
        f'train_dataloader.dataset.data_root={synthetic_mars["out_dir"]}',
        'model.head.num_classes=60':
        f'model.head.num_classes={synthetic_mars["num_train_ids"]}',
    }
    argv = [sys.executable] + [substitutions.get(a, a) for a in argv[1:]]
    rc, log = run_tool(argv)
    assert rc == 0, log[-4000:]
    assert re.search(r'Epoch\(train\) \[1\]\[\d+/\d+\].*loss_fd', log)
    assert 'Epoch(val)' not in log
    assert osp.isfile(tmp_path / 'work' / 'epoch_1.pth')

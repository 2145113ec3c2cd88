"""Trustworthy training through tools/train.py and tools/test.py on the tiny
synthetic MARS config (CPU, num_workers=0):

- a run SIGKILLed right after a mid-epoch checkpoint and resumed with
  ``--resume`` ends with exactly the weights, optimizer state and metrics of
  an uninterrupted run;
- two runs with the same ``randomness`` are bit-identical;
- the checkpoints need mmdcct's allow-list to load weights-only, and a
  code-running checkpoint is refused by tools/test.py without running.
"""
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from mmdcct.utils import checkpoint_allow_list
from test_train_test_tools import REPO, run, write_tiny_config

ITERS_PER_EPOCH = 3  # 6 train ids x K=2 tracklets, batch 4
MAX_EPOCHS = 3

RESUME_CONFIG = """
_base_ = [{tiny!r}]
train_cfg = dict(max_epochs={max_epochs}, val_interval={max_epochs})
default_hooks = dict(
    checkpoint=dict(interval=2, by_epoch=False, max_keep_ckpts=-1))
randomness = dict(seed=0, deterministic=True)
"""

# the run that gets killed sleeps after every iteration, so that the test
# can SIGKILL it right after a mid-epoch checkpoint was written
SLOW_CONFIG = """
_base_ = [{resume!r}]
custom_imports = dict(imports=['slow_train_hook'], allow_failed_imports=False)
custom_hooks = [
    dict(type='NumClassesCheckHook'),
    dict(type='CheckInvalidLossTermsHook'),
    dict(type='SlowTrainHook', seconds=1.0),
]
"""

SLOW_HOOK = """
import time
from mmengine.hooks import Hook
from mmdcct.registry import HOOKS


@HOOKS.register_module()
class SlowTrainHook(Hook):
    priority = 'LOWEST'

    def __init__(self, seconds):
        self.seconds = seconds

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        time.sleep(self.seconds)
"""

METRIC_RE = re.compile(r'\b(mAP|mINP|R\d+): ([\d.]+)')


@pytest.fixture(scope='module')
def configs(tmp_path_factory, synthetic_mars):
    tmp_path = tmp_path_factory.mktemp('resume_cfg')
    tiny = write_tiny_config(tmp_path, synthetic_mars['out_dir'],
                             synthetic_mars['num_train_ids'])
    resume = tmp_path / 'resume_cfg.py'
    resume.write_text(RESUME_CONFIG.format(tiny=tiny, max_epochs=MAX_EPOCHS))
    slow = tmp_path / 'slow_cfg.py'
    slow.write_text(SLOW_CONFIG.format(resume=str(resume)))
    (tmp_path / 'slow_train_hook.py').write_text(SLOW_HOOK)
    return dict(
        tiny=tiny, resume=str(resume), slow=str(slow), dir=str(tmp_path))


def train(config, work_dir, *args):
    return run([
        sys.executable, 'tools/train.py', config, '--work-dir', work_dir, *args
    ])


def final_metrics(log):
    line = [
        ln for ln in log.splitlines() if f'Epoch(val) [{MAX_EPOCHS}]' in ln
    ][-1]
    return dict(METRIC_RE.findall(line))


def last_ckpt(work_dir):
    with checkpoint_allow_list():
        return torch.load(
            osp.join(work_dir, f'iter_{MAX_EPOCHS * ITERS_PER_EPOCH}.pth'),
            weights_only=True)


def assert_same_training_state(a, b):
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for name, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][name]), name
    opt_a, opt_b = a['optimizer']['state'], b['optimizer']['state']
    assert opt_a.keys() == opt_b.keys()
    for key in opt_a:
        for name, value in opt_a[key].items():
            assert torch.equal(
                torch.as_tensor(value),
                torch.as_tensor(opt_b[key][name])), (key, name)
    assert a['param_schedulers'] == b['param_schedulers']
    assert (a['meta']['epoch'], a['meta']['iter']) == \
        (b['meta']['epoch'], b['meta']['iter'])


@pytest.fixture(scope='module')
def uninterrupted(configs, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('uninterrupted'))
    log = train(configs['resume'], work_dir)
    return work_dir, log


def test_two_runs_are_bit_identical(configs, uninterrupted, tmp_path_factory):
    work_dir, log = uninterrupted
    again = str(tmp_path_factory.mktemp('again'))
    log_again = train(configs['resume'], again)
    assert_same_training_state(last_ckpt(work_dir), last_ckpt(again))
    assert final_metrics(log) == final_metrics(log_again)


def wait_for_mid_epoch_checkpoint(proc, work_dir, timeout=180):
    """Poll ``last_checkpoint`` until it names a mid-epoch checkpoint."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, 'training ended before it was killed'
        if osp.isfile(pointer):
            with open(pointer) as f:
                match = re.search(r'iter_(\d+)\.pth$', f.read().strip())
            if match and int(match.group(1)) % ITERS_PER_EPOCH:
                return int(match.group(1))
        time.sleep(0.05)
    raise TimeoutError(f'no mid-epoch checkpoint in {work_dir}')


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(
        configs, uninterrupted, tmp_path):
    reference_dir, reference_log = uninterrupted
    work_dir = str(tmp_path / 'killed')
    os.makedirs(work_dir)
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([REPO, configs['dir']]),
        OMP_NUM_THREADS='1')
    with open(tmp_path / 'killed.log', 'w') as out:
        proc = subprocess.Popen([
            sys.executable, 'tools/train.py', configs['slow'], '--work-dir',
            work_dir
        ],
                                cwd=REPO,
                                env=env,
                                stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            killed_at = wait_for_mid_epoch_checkpoint(proc, work_dir)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    epoch, skip = divmod(killed_at, ITERS_PER_EPOCH)
    print(f'SIGKILLed after iter_{killed_at}.pth '
          f'(epoch {epoch + 1}, batch {skip}/{ITERS_PER_EPOCH})')
    assert not osp.exists(
        osp.join(work_dir, f'iter_{MAX_EPOCHS * ITERS_PER_EPOCH}.pth'))

    log = train(configs['resume'], work_dir, '--resume')
    print('\n'.join(ln for ln in log.splitlines() if re.search(
        r'resumed|Resuming|Epoch\(train\) +\[\d\]\[\d/|'
        r'Epoch\(val\) \[', ln)))
    assert f'resumed epoch: {epoch}, iter: {killed_at}' in log
    assert (f'Resuming epoch {epoch + 1} after its first {skip} batches'
            in log)
    # the resumed epoch continues with its next batch, not its first
    assert re.search(rf'Epoch\(train\) +\[{epoch + 1}\]\[{skip + 1}/', log)
    assert not re.search(rf'Epoch\(train\) +\[{epoch + 1}\]\[1/', log)

    resumed, reference = last_ckpt(work_dir), last_ckpt(reference_dir)
    assert_same_training_state(resumed, reference)
    metrics = final_metrics(log)
    assert metrics == final_metrics(reference_log)
    print(f'final weights: {len(resumed["state_dict"])} tensors torch.equal;'
          f' final metrics equal: {metrics}')


def test_real_checkpoints_need_the_allow_list(uninterrupted):
    """Reproduces the torch >= 2.6 + MMEngine 0.10.7 failure on a real
    checkpoint in a fresh interpreter, then loads it once mmdcct's switch
    is on (as in the tools)."""
    work_dir, _ = uninterrupted
    path = osp.join(work_dir, 'iter_2.pth')
    code = ('import pickle, sys, torch\n'
            'try:\n'
            f'    torch.load({path!r}, weights_only=True)\n'
            '    sys.exit("loaded without the allow-list")\n'
            'except pickle.UnpicklingError as e:\n'
            '    print("plain torch refuses it")\n'
            'import mmdcct.utils\n'
            'mmdcct.utils.install_safe_checkpoint_loading()\n'
            f'ckpt = torch.load({path!r}, weights_only=True)\n'
            "print('loaded with mmdcct:', sorted(ckpt))\n")
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'plain torch refuses it' in proc.stdout
    assert "loaded with mmdcct: ['message_hub', 'meta'" in proc.stdout


class RunsCode:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def test_test_tool_refuses_code_running_checkpoint(configs, uninterrupted,
                                                   tmp_path):
    work_dir, _ = uninterrupted
    marker = tmp_path / 'MARKER'
    evil = str(tmp_path / 'evil.pth')
    with checkpoint_allow_list():
        ckpt = torch.load(
            osp.join(work_dir, 'iter_2.pth'), weights_only=True)
    ckpt['meta']['payload'] = RunsCode(marker)
    torch.save(ckpt, evil)
    proc = subprocess.run([
        sys.executable, 'tools/test.py', configs['tiny'], evil, '--work-dir',
        str(tmp_path)
    ],
                          cwd=REPO,
                          env=dict(
                              os.environ, PYTHONPATH=REPO,
                              OMP_NUM_THREADS='1'),
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0
    assert f"Refusing to load checkpoint '{evil}'" in proc.stderr
    assert "'posix.system'" in proc.stderr
    assert 'MMDCCT_TRUSTED_CHECKPOINTS' in proc.stderr
    assert not marker.exists()

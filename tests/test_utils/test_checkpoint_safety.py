"""Checkpoints load with torch's weights-only unpickler: MMEngine's own
types are allow-listed, anything that could run code is still refused."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import load_checkpoint

import mmdcct  # noqa: F401  (registers the allow-list)
from mmdcct.utils.checkpoint_safety import (checkpoint_safe_globals,
                                            history_buffer_statistic)


class RunsCode:
    """Unpickling this would create ``marker`` (a code-execution gadget)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class FetchesAttribute:
    """Unpickling this asks ``builtins.getattr`` for an arbitrary attribute."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


def mmengine_like_checkpoint(path):
    buffer = HistoryBuffer()
    buffer.update(1.5)
    torch.save(
        dict(
            meta=dict(epoch=1, eta=np.float64(3.0)),
            state_dict=dict(w=torch.ones(2)),
            message_hub=dict(log_scalars={'train/loss': buffer})), path)


def test_mmengine_types_load_weights_only(tmp_path):
    path = str(tmp_path / 'ok.pth')
    mmengine_like_checkpoint(path)
    ckpt = torch.load(path, weights_only=True)
    assert ckpt['message_hub']['log_scalars']['train/loss'].mean() == 1.5
    assert ckpt['meta']['eta'] == 3.0


def test_code_execution_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    torch.save(
        dict(state_dict=dict(w=torch.ones(1)), x=RunsCode(marker)), path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path, weights_only=True)
    model = torch.nn.Linear(1, 1)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(model, path, map_location='cpu')
    assert not osp.exists(marker)


def test_getattr_is_restricted_to_history_buffer_statistics(tmp_path):
    path = str(tmp_path / 'gadget.pth')
    torch.save(dict(x=FetchesAttribute()), path)
    with pytest.raises(pickle.UnpicklingError, match='__init__'):
        torch.load(path, weights_only=True)
    assert history_buffer_statistic(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_statistic(os, 'system')


def test_allow_list_is_registered_once():
    mmdcct.register_checkpoint_safe_globals()
    mmdcct.register_checkpoint_safe_globals()
    safe = torch.serialization.get_safe_globals()
    for entry in checkpoint_safe_globals():
        assert safe.count(entry) == 1


# --- mmdcct's loading path: refusal message, per-file opt-in ---------------


def legacy_checkpoint(path):
    import argparse
    torch.save(
        dict(
            state_dict=dict(weight=torch.ones(1, 1), bias=torch.zeros(1)),
            args=argparse.Namespace(lr=0.1)), path)


def test_plain_torch_fails_and_mmdcct_import_fixes_it(tmp_path):
    """In one fresh interpreter: torch.load(weights_only=True) of an
    MMEngine-like checkpoint fails until mmdcct is imported."""
    path = str(tmp_path / 'ok.pth')
    mmengine_like_checkpoint(path)
    code = ('import pickle, sys, torch\n'
            'try:\n'
            f'    torch.load({path!r}, weights_only=True)\n'
            '    sys.exit("loaded without the allow-list")\n'
            'except pickle.UnpicklingError as e:\n'
            '    print("without mmdcct:", str(e).splitlines()[-3])\n'
            'import mmdcct\n'
            f'ckpt = torch.load({path!r}, weights_only=True)\n'
            "print('with mmdcct:', ckpt['message_hub']['log_scalars']"
            "['train/loss'].mean())\n")
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'Unsupported global' in proc.stdout.split('with mmdcct')[0]
    assert 'with mmdcct: 1.5' in proc.stdout


def test_refusal_names_file_global_and_opt_in(tmp_path):
    from mmdcct.utils import UnsafeCheckpointError
    marker = tmp_path / 'MARKER'
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, x=RunsCode(marker)), path)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint(torch.nn.Linear(1, 1), path)
    message = str(err.value)
    assert f"Refusing to load checkpoint '{path}'" in message
    assert "global 'posix.system'" in message or "'nt.system'" in message
    assert f'MMDCCT_TRUSTED_CHECKPOINTS={path}' in message
    assert 'trusted_checkpoints(' in message
    assert err.value.filename == path
    assert not marker.exists()


def test_force_no_weights_only_env_does_not_bypass(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    marker = tmp_path / 'MARKER'
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(x=RunsCode(marker)), path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        load_checkpoint(torch.nn.Linear(1, 1), path)
    assert not marker.exists()


def test_pretrained_init_and_runner_load_from_refuse(tmp_path):
    from mmengine.model.weight_init import PretrainedInit
    from mmengine.runner import Runner
    marker = tmp_path / 'MARKER'
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, x=RunsCode(marker)), path)
    with pytest.raises(pickle.UnpicklingError, match='evil.pth'):
        PretrainedInit(checkpoint=path)(torch.nn.Linear(1, 1))
    runner = Runner(
        model=torch.nn.Linear(1, 1),
        work_dir=str(tmp_path),
        default_scope='mmdcct')
    for resume in (False, True):
        with pytest.raises(pickle.UnpicklingError, match='posix.system'):
            runner.load_checkpoint(path) if not resume else runner.resume(path)
    assert not marker.exists()


def test_trusted_legacy_checkpoint_opt_in(tmp_path, monkeypatch):
    from mmdcct.utils import (UnsafeCheckpointError, is_trusted_checkpoint,
                              trusted_checkpoints)
    legacy = str(tmp_path / 'legacy.pth')
    other = str(tmp_path / 'other.pth')
    legacy_checkpoint(legacy)
    legacy_checkpoint(other)
    model = torch.nn.Linear(1, 1)
    with pytest.raises(UnsafeCheckpointError, match='argparse.Namespace'):
        load_checkpoint(model, legacy)

    # per file, with a context manager ...
    with trusted_checkpoints(str(tmp_path / '.' / 'legacy.pth')):
        assert is_trusted_checkpoint(legacy)
        ckpt = load_checkpoint(model, legacy)
        assert ckpt['args'].lr == 0.1
        with pytest.raises(UnsafeCheckpointError):
            load_checkpoint(model, other)  # only the named file
    assert not is_trusted_checkpoint(legacy)
    with pytest.raises(ValueError, match='needs the checkpoint files'):
        with trusted_checkpoints():
            pass

    # ... or with the environment variable
    monkeypatch.setenv('MMDCCT_TRUSTED_CHECKPOINTS',
                       os.pathsep.join(['/nonexistent.pth', legacy]))
    assert load_checkpoint(model, legacy)['args'].lr == 0.1
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint(model, other)


def test_loader_schemes_are_installed():
    from mmengine.runner.checkpoint import CheckpointLoader
    from mmdcct.utils import checkpoint_safety
    assert CheckpointLoader._get_checkpoint_loader('a/b.pth') is \
        checkpoint_safety._load_from_local
    assert CheckpointLoader._get_checkpoint_loader('https://x/y.pth') is \
        checkpoint_safety._load_from_http
    checkpoint_safety.install_safe_checkpoint_loading()  # idempotent
    assert CheckpointLoader._mmdcct_safe

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


def test_plain_torch_without_mmdcct_refuses_mmengine_checkpoints(tmp_path):
    """The trap mmdcct fixes: torch >= 2.6 + MMEngine 0.10.7."""
    path = str(tmp_path / 'ok.pth')
    mmengine_like_checkpoint(path)
    code = ('import torch, sys\n'
            'try:\n'
            f'    torch.load({path!r}, weights_only=True)\n'
            'except Exception as e:\n'
            '    print(type(e).__name__); sys.exit(0)\n'
            'sys.exit(1)\n')
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'UnpicklingError' in proc.stdout


def test_code_execution_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict=dict(w=torch.ones(1)), x=RunsCode(marker)),
               path)
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

"""Checkpoints load with torch's weights-only unpickler: MMEngine's own
types are allow-listed, anything that could run code is still refused --
through MMEngine once ``install_safe_checkpoint_loading()`` switched it on
(as the tools do), and through ``safe_load_checkpoint`` without it."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import CheckpointLoader, load_checkpoint

from mmdcct.utils import (checkpoint_allow_list,
                          install_safe_checkpoint_loading,
                          safe_load_checkpoint)
from mmdcct.utils.checkpoint_safety import (checkpoint_safe_globals,
                                            history_buffer_statistic,
                                            register_checkpoint_safe_globals)


@pytest.fixture
def safe_loading():
    """Switch safe loading on as the tools do; restore MMEngine's loaders
    and torch's safe globals afterwards (test-only private access)."""
    schemes = dict(CheckpointLoader._schemes)
    safe_globals = torch.serialization.get_safe_globals()
    install_safe_checkpoint_loading()
    yield
    CheckpointLoader._schemes = type(CheckpointLoader._schemes)(schemes)
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(safe_globals)


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


def safe_globals() -> set:
    """torch's allow-list; torch keeps it as a set, so a scoped add and its
    restore may return the same entries in another list order."""
    return set(torch.serialization.get_safe_globals())


def test_mmengine_types_load_weights_only(tmp_path):
    path = str(tmp_path / 'ok.pth')
    mmengine_like_checkpoint(path)
    before = safe_globals()
    with checkpoint_allow_list():
        ckpt = torch.load(path, weights_only=True)
    assert safe_globals() == before  # scoped
    assert ckpt['message_hub']['log_scalars']['train/loss'].mean() == 1.5
    assert ckpt['meta']['eta'] == 3.0
    with pytest.raises(pickle.UnpicklingError, match='Unsupported global'):
        torch.load(path, weights_only=True)


def test_safe_load_checkpoint_leaves_the_process_as_it_was(tmp_path):
    """The library path (init_model, the inferencer): weights-only, nothing
    installed, the allow-list active only during the call."""
    path = str(tmp_path / 'ok.pth')
    mmengine_like_checkpoint(path)
    schemes = dict(CheckpointLoader._schemes)
    before = safe_globals()
    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.zeros(2))
    ckpt = safe_load_checkpoint(model, path)
    assert torch.equal(model.w.data, torch.ones(2))
    assert ckpt['meta']['eta'] == 3.0
    assert dict(CheckpointLoader._schemes) == schemes
    assert safe_globals() == before

    from mmdcct.utils import UnsafeCheckpointError
    marker = tmp_path / 'MARKER'
    evil = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, x=RunsCode(marker)), evil)
    with pytest.raises(UnsafeCheckpointError, match='posix.system|nt.system'):
        safe_load_checkpoint(model, evil)
    assert not marker.exists()
    assert safe_globals() == before


def test_code_execution_is_refused_and_never_runs(tmp_path, safe_loading):
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
    with checkpoint_allow_list(), pytest.raises(
            pickle.UnpicklingError, match='__init__'):
        torch.load(path, weights_only=True)
    assert history_buffer_statistic(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_statistic(os, 'system')


def test_allow_list_is_registered_once(safe_loading):
    register_checkpoint_safe_globals()
    install_safe_checkpoint_loading()
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


def test_plain_torch_fails_until_the_switch_is_on(tmp_path):
    """In one fresh interpreter: torch.load(weights_only=True) of an
    MMEngine-like checkpoint fails -- also after importing mmdcct, which
    changes nothing -- until install_safe_checkpoint_loading() is called."""
    path = str(tmp_path / 'ok.pth')
    mmengine_like_checkpoint(path)
    code = ('import pickle, sys, torch\n'
            'try:\n'
            f'    torch.load({path!r}, weights_only=True)\n'
            '    sys.exit("loaded without the allow-list")\n'
            'except pickle.UnpicklingError as e:\n'
            '    print("without mmdcct:", str(e).splitlines()[-3])\n'
            'import mmdcct, mmdcct.utils, mmdcct.engine\n'
            'try:\n'
            f'    torch.load({path!r}, weights_only=True)\n'
            '    sys.exit("importing mmdcct changed torch")\n'
            'except pickle.UnpicklingError as e:\n'
            '    print("imported:", str(e).splitlines()[-3])\n'
            'mmdcct.utils.install_safe_checkpoint_loading()\n'
            f'ckpt = torch.load({path!r}, weights_only=True)\n'
            "print('with mmdcct:', ckpt['message_hub']['log_scalars']"
            "['train/loss'].mean())\n")
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'Unsupported global' in proc.stdout.split('imported')[0]
    assert 'Unsupported global' in proc.stdout.split('imported')[1]
    assert 'with mmdcct: 1.5' in proc.stdout


def test_refusal_names_file_global_and_opt_in(tmp_path, safe_loading):
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


def test_force_no_weights_only_env_does_not_bypass(tmp_path, monkeypatch,
                                                   safe_loading):
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    marker = tmp_path / 'MARKER'
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(x=RunsCode(marker)), path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        load_checkpoint(torch.nn.Linear(1, 1), path)
    assert not marker.exists()


def test_pretrained_init_and_runner_load_from_refuse(tmp_path, safe_loading):
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


def test_trusted_legacy_checkpoint_opt_in(tmp_path, monkeypatch, safe_loading):
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


def test_loader_schemes_are_installed(safe_loading):
    from mmdcct.utils import checkpoint_safety
    get = CheckpointLoader._get_checkpoint_loader
    assert get('a/b.pth') is checkpoint_safety._load_from_local
    assert get('https://x/y.pth') is checkpoint_safety._load_from_http
    for name in ('torchvision://resnet18', 'open-mmlab://x', 'mmcls://x'):
        assert get(name) is checkpoint_safety._load_from_model_zoo, name
    install_safe_checkpoint_loading()  # idempotent
    assert get('a/b.pth') is checkpoint_safety._load_from_local
    # schemes it does not handle keep MMEngine's loaders
    assert get('s3://bucket/x.pth').__module__ == 'mmengine.runner.checkpoint'


def test_model_zoo_names_resolve_to_the_weights_only_loaders(
        monkeypatch, tmp_path):
    """torchvision:// / open-mmlab:// / mmcls:// names are looked up in
    MMEngine's tables and loaded weights-only (no download here)."""
    from mmengine.runner import checkpoint as mmengine_checkpoint

    from mmdcct.utils import checkpoint_safety
    local = str(tmp_path / 'local.pth')
    torch.save(dict(state_dict={'backbone.w': torch.ones(1)}), local)
    urls = []

    def fake_http(url, map_location=None):
        urls.append(url)
        return torch.load(local, weights_only=True)

    monkeypatch.setattr(checkpoint_safety, '_load_from_http', fake_http)
    monkeypatch.setattr(mmengine_checkpoint, 'get_external_models',
                        lambda: dict(a='https://host/a.pth', b='rel/b.pth'))
    monkeypatch.setattr(mmengine_checkpoint, 'get_mmcls_models',
                        lambda: dict(c='https://host/c.pth'))
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path))
    os.makedirs(tmp_path / 'rel')
    torch.save(dict(state_dict={'w': torch.zeros(1)}), tmp_path / 'rel/b.pth')
    load = checkpoint_safety._load_from_model_zoo
    assert load('open-mmlab://a')['state_dict']['backbone.w'] == 1
    assert load('openmmlab://b')['state_dict']['w'] == 0  # MMENGINE_HOME
    assert list(load('mmcls://c')['state_dict']) == ['w']  # backbone only
    resnet = mmengine_checkpoint.get_torchvision_models()['resnet18']
    load('torchvision://resnet18')
    assert urls == ['https://host/a.pth', 'https://host/c.pth', resnet]


def _bad_checkpoint(tmp_path, kind):
    """A checkpoint file that is broken in one way (``kind``)."""
    path = tmp_path / f'{kind}.pth'
    good = tmp_path / 'good.pth'
    legacy = kind.startswith('legacy')
    torch.save(
        dict(state_dict=dict(weight=torch.ones(4, 4), bias=torch.ones(4))),
        good,
        _use_new_zipfile_serialization=not legacy)
    data = good.read_bytes()
    if kind == 'empty':
        data = b''
    elif kind in ('zip-truncated', 'legacy-truncated'):
        data = data[:len(data) // 2]
    elif kind == 'legacy-cut-in-pickle':
        data = data[:60]
    elif kind == 'random':
        data = np.random.default_rng(0).bytes(4096)
    elif kind == 'html':
        data = b'<html><body>404 Not Found</body></html>'
    elif kind == 'zip-without-data':
        import zipfile
        with zipfile.ZipFile(path, 'w') as archive:
            archive.writestr('readme.txt', 'not a checkpoint')
        return str(path)
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize('kind,message', [
    ('empty', 'checkpoint {} is empty (0 bytes)'),
    ('zip-truncated', 'checkpoint {} is truncated or corrupt (not a complete '
     'torch zip/pickle): re-download or re-save it.'),
    ('legacy-truncated', 'checkpoint {} is truncated or corrupt'),
    ('legacy-cut-in-pickle', 'checkpoint {} is truncated or corrupt'),
    ('random', '{} is not a PyTorch checkpoint'),
    ('html', "{} is not a PyTorch checkpoint (it starts with b'<html><b'"),
    ('zip-without-data', '{} is not a PyTorch checkpoint (a zip archive '
     'without data.pkl)'),
])
def test_broken_files_name_the_file_and_the_fix(tmp_path, safe_loading, kind,
                                                message):
    """Through MMEngine's load_checkpoint, as tools/test.py and load_from
    reach it once the safe-loading switch is on."""
    from mmdcct.utils.checkpoint_safety import (CheckpointFileError,
                                                UnsafeCheckpointError)
    path = _bad_checkpoint(tmp_path, kind)
    with pytest.raises(CheckpointFileError) as err:
        load_checkpoint(torch.nn.Linear(4, 4), path, map_location='cpu')
    assert message.format(path) in str(err.value)
    assert err.value.filename == path
    assert not isinstance(err.value, UnsafeCheckpointError)


def test_every_truncation_point_is_corrupt_not_unsafe(tmp_path):
    """A file cut anywhere (even inside a GLOBAL opcode, which torch reports
    as an unsupported global) is "truncated or corrupt"."""
    from mmdcct.utils.checkpoint_safety import (CheckpointFileError,
                                                safe_torch_load)
    for legacy in (False, True):
        good = tmp_path / f'good{legacy}.pth'
        torch.save(
            dict(state_dict=dict(w=torch.ones(8)), meta=dict(epoch=1)),
            good,
            _use_new_zipfile_serialization=not legacy)
        data = good.read_bytes()
        cut = tmp_path / 'cut.pth'
        for end in range(1, len(data), 7):
            cut.write_bytes(data[:end])
            with pytest.raises(CheckpointFileError, match='truncated'):
                safe_torch_load(str(cut))
        assert safe_torch_load(str(good))['meta'] == dict(epoch=1)


@pytest.mark.parametrize('legacy', [False, True])
def test_real_unsafe_pickle_keeps_the_unsafe_message(tmp_path, safe_loading,
                                                     legacy):
    from mmdcct.utils import UnsafeCheckpointError
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    torch.save(
        dict(state_dict=dict(w=torch.ones(1)), x=RunsCode(marker)),
        path,
        _use_new_zipfile_serialization=not legacy)
    with pytest.raises(UnsafeCheckpointError, match='Refusing to load'):
        load_checkpoint(torch.nn.Linear(1, 1), path, map_location='cpu')
    assert not osp.exists(marker)

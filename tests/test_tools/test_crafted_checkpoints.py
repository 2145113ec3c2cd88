"""Every crafted checkpoint of the safety tests is refused by the tools --
``tools/test.py``, ``tools/train.py`` (``--resume``, ``load_from``,
``Pretrained`` init) and ``tools/infer.py`` -- without running its payload,
also with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``. The tools switch safe
loading on themselves (importing mmdcct does not); all runs share one fresh
interpreter to pay the imports once."""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from mmdcct.utils import checkpoint_allow_list
from test_legacy_checkpoint import LEGACY, LEGACY_CONFIG
from test_train_test_tools import REPO, write_tiny_config


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


#: name -> (payload factory, what the refusal names)
GADGETS = dict(
    runs_code=(RunsCode, 'system'),
    fetches_attribute=(lambda marker: FetchesAttribute(), 'getattr'),
    legacy_namespace=(lambda marker: argparse.Namespace(lr=0.1),
                      'argparse.Namespace'),
)

DRIVER = '''
import json, os, runpy, sys, traceback
cases = json.loads(sys.argv[1])
results = []
for case in cases:
    os.environ.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    os.environ.update(case['env'])
    sys.argv = case['argv']
    try:
        runpy.run_path(case['argv'][0], run_name='__main__')
        outcome = 'ran'
    except SystemExit as err:
        outcome = f'SystemExit({err.code})'
    except BaseException as err:
        outcome = f'{type(err).__name__}: {err}'
    results.append(outcome)
print(json.dumps(results))
'''


@pytest.fixture(scope='module')
def crafted(tmp_path_factory, synthetic_mars):
    tmp_path = tmp_path_factory.mktemp('crafted')
    tiny = write_tiny_config(tmp_path, synthetic_mars['out_dir'],
                             synthetic_mars['num_train_ids'])
    config = tmp_path / 'legacy.py'
    config.write_text(LEGACY_CONFIG.format(tiny=tiny))
    with checkpoint_allow_list():
        genuine = torch.load(LEGACY, weights_only=True)
    files = {}
    for name, (payload, _) in GADGETS.items():
        marker = tmp_path / f'MARKER_{name}'
        ckpt = dict(genuine, meta=dict(genuine['meta']))
        ckpt['meta']['payload'] = payload(str(marker))
        files[name] = (str(tmp_path / f'{name}.pth'), marker)
        torch.save(ckpt, files[name][0])
    return dict(
        config=str(config),
        files=files,
        tmp=tmp_path,
        tracklets=osp.join(synthetic_mars['out_dir'], 'bbox_test'))


def tool_runs(crafted, name):
    """``(label, argv, env)`` of every entry point for one crafted file."""
    path = crafted['files'][name][0]
    cfg = crafted['config']
    work = str(crafted['tmp'] / f'work_{name}')
    runs = [
        ('test.py', ['tools/test.py', cfg, path, '--work-dir', work], {}),
        ('train.py --resume',
         ['tools/train.py', cfg, '--work-dir', work, '--resume', path], {}),
        ('train.py load_from', [
            'tools/train.py', cfg, '--work-dir', work, '--cfg-options',
            f'load_from={path}'
        ], {}),
        ('train.py Pretrained init', [
            'tools/train.py', cfg, '--work-dir', work, '--cfg-options',
            'model.backbone.cnn.init_cfg.type=Pretrained',
            f'model.backbone.cnn.init_cfg.checkpoint={path}'
        ], {}),
        ('infer.py embed', [
            'tools/infer.py', 'embed', cfg, path, crafted['tracklets'],
            '--out', f'{work}/feats.npz', '--no-progress'
        ], {}),
        ('test.py, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1',
         ['tools/test.py', cfg, path, '--work-dir',
          work], dict(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1')),
    ]
    return runs


@pytest.mark.parametrize('name', sorted(GADGETS))
def test_tools_refuse_crafted_checkpoints(crafted, name):
    runs = tool_runs(crafted, name)
    cases = [dict(argv=argv, env=env) for _, argv, env in runs]
    proc = subprocess.run([sys.executable, '-c', DRIVER,
                           json.dumps(cases)],
                          cwd=REPO,
                          env=dict(
                              os.environ, PYTHONPATH=REPO,
                              OMP_NUM_THREADS='1'),
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-5000:]
    outcomes = json.loads(proc.stdout.strip().splitlines()[-1])
    path, marker = crafted['files'][name]
    offending = GADGETS[name][1]
    for (label, _, _), outcome in zip(runs, outcomes):
        print(f'{name:18s} {label:45s} -> {outcome[:110]}')
        assert outcome.startswith('UnsafeCheckpointError'), (label, outcome)
        assert f"Refusing to load checkpoint '{path}'" in outcome, label
        assert offending in outcome, (label, outcome)
        assert 'MMDCCT_TRUSTED_CHECKPOINTS' in outcome, label
    assert not marker.exists()

"""Importing mmdcct registers components and changes nothing else in the
process, checked in fresh interpreters: MMEngine's checkpoint loaders (no
loader replaced or removed; only mmdcct's own new prefixes may be added, as
with registry names), the warnings filters and torch's safe globals are the
same before and after.
"""
import json
import subprocess
import sys

import pytest

#: Every mmdcct package (importing them registers all components).
PACKAGES = ('mmdcct', 'mmdcct.apis', 'mmdcct.datasets', 'mmdcct.engine',
            'mmdcct.evaluation', 'mmdcct.models', 'mmdcct.registry',
            'mmdcct.structures', 'mmdcct.utils', 'mmdcct.visualization')

SNAPSHOT = '''
import warnings
import torch
from mmengine.runner import CheckpointLoader


def snapshot():
    return dict(
        schemes={p: [id(f), f.__module__]
                 for p, f in CheckpointLoader._schemes.items()},
        filters=list(warnings.filters),
        safe_globals=list(torch.serialization.get_safe_globals()))
'''

# pass 1: which third-party modules mmdcct (and its metric build) pulls in
LIST_MODULES = SNAPSHOT + '''
import importlib, json, sys
before = set(sys.modules)
for name in PACKAGES:
    importlib.import_module(name)
BUILD
print(json.dumps(sorted(m for m in set(sys.modules) - before
                        if m.split('.')[0] != 'mmdcct')))
'''

# pass 2: those modules first, then the snapshot, then mmdcct
CHECK = SNAPSHOT + '''
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception:  # aliases such as six.moves.* are not importable
        pass
before = snapshot()
for name in PACKAGES:
    importlib.import_module(name)
BUILD
after = snapshot()
print(json.dumps(dict(
    changed_schemes=sorted(p for p in before['schemes']
                           if after['schemes'].get(p) != before['schemes'][p]),
    added_schemes={p: m for p, (_, m) in after['schemes'].items()
                   if p not in before['schemes']},
    same_filters=before['filters'] == after['filters'],
    same_safe_globals=before['safe_globals'] == after['safe_globals'],
    schemes=len(after['schemes']), filters=len(after['filters']),
    safe_globals=len(after['safe_globals']))))
'''

# resolve mmdcct's metric from mmpretrain's scope, as another project would
BUILD_METRIC = '''
from mmengine.registry import DefaultScope
from mmpretrain.registry import METRICS
with DefaultScope.overwrite_default_scope('mmpretrain'):
    metric = METRICS.build(dict(type='mmdcct.VideoReIDMetric'))
assert type(metric).__name__ == 'VideoReIDMetric', type(metric)
'''


def fill(template, packages, build):
    return template.replace('PACKAGES', repr(packages)).replace('BUILD', build)


def run_python(code, *args):
    proc = subprocess.run([sys.executable, '-c', code, *args],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def third_party_modules():
    """Everything but mmdcct that importing all of it loads."""
    return run_python(fill(LIST_MODULES, PACKAGES, BUILD_METRIC))


@pytest.mark.parametrize(
    'packages', [('mmdcct.registry', ), PACKAGES],
    ids=['metric-from-mmpretrain-scope', 'all-packages-and-metric'])
def test_import_changes_no_host_state(third_party_modules, packages):
    result = run_python(
        fill(CHECK, packages, BUILD_METRIC), json.dumps(third_party_modules))
    print(result)
    assert result['changed_schemes'] == [], result
    for prefix, module in result['added_schemes'].items():
        assert module.startswith('mmdcct.'), (prefix, module)
    assert result['same_filters'], result
    assert result['same_safe_globals'], result


def test_the_switch_changes_exactly_the_checkpoint_state():
    """The check above can fail: the public switch changes all but the
    warnings filters (entry points silence the mmcv-lite one separately)."""
    code = SNAPSHOT + '''
import json
import mmdcct.utils
before = snapshot()
mmdcct.utils.install_safe_checkpoint_loading()
mmdcct.utils.install_safe_checkpoint_loading()  # idempotent
after = snapshot()
print(json.dumps(dict(
    changed=sorted(p for p in after['schemes']
                   if before['schemes'].get(p) != after['schemes'][p]),
    same_filters=before['filters'] == after['filters'],
    added_globals=len(after['safe_globals']) - len(before['safe_globals']))))
'''
    result = run_python(code)
    assert result['changed'] == sorted([
        '', 'http://', 'https://', 'torchvision://', 'modelzoo://',
        'open-mmlab://', 'openmmlab://', 'mmcls://'
    ])
    assert result['same_filters']
    assert result['added_globals'] > 0

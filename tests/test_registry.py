"""Registries: the `mmdcct` scope, and `mmdcct.X` lookups from other scopes
with no import step (MMEngine imports `mmdcct.registry` and `locations`)."""
import subprocess
import sys

import pytest

CROSS_SCOPE = """
from mmengine.registry import (DATA_SAMPLERS, DATASETS, METRICS, MODELS,
                               TRANSFORMS, DefaultScope)
import sys
assert 'mmdcct' not in sys.modules
DefaultScope.get_instance('another_project', scope_name='mmengine')
for registry, name in [(MODELS, 'VideoReID'), (MODELS, 'CoupledBackbone'),
                       (MODELS, 'TripletLoss'), (DATASETS, 'MARS'),
                       (DATA_SAMPLERS, 'IdentityBalancedSampler'),
                       (TRANSFORMS, 'RestrictedRandomSampling'),
                       (METRICS, 'VideoReIDMetric')]:
    cls = registry.get('mmdcct.' + name)
    assert cls is not None, name
    assert cls.__module__.startswith('mmdcct.'), cls.__module__
loss = MODELS.build(dict(type='mmdcct.TripletLoss', margin=0.2))
assert type(loss).__name__ == 'TripletLoss' and loss.margin == 0.2
print('OK')
"""


def test_prefixed_lookup_from_another_scope_without_imports():
    proc = subprocess.run([sys.executable, '-c', CROSS_SCOPE],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith('OK')


def test_registries_are_children_of_mmengine_roots():
    from mmengine import registry as root

    from mmdcct import registry
    for name in ('MODELS', 'DATASETS', 'TRANSFORMS', 'DATA_SAMPLERS',
                 'METRICS', 'HOOKS', 'VISUALIZERS', 'OPTIM_WRAPPERS',
                 'PARAM_SCHEDULERS', 'LOOPS'):
        node = getattr(registry, name)
        assert node.scope == 'mmdcct'
        assert node.parent is getattr(root, name)


def test_mmpretrain_parts_by_prefix_inside_mmdcct_scope():
    from mmdcct.registry import MODELS
    from mmdcct.utils import register_all_modules
    register_all_modules()
    resnet = MODELS.build(dict(type='mmpretrain.ResNet', depth=18))
    assert type(resnet).__module__.startswith('mmpretrain.')
    with pytest.raises(KeyError):
        MODELS.build(dict(type='NoSuchModule'))


@pytest.mark.parametrize('module', [
    'mmdcct', 'mmdcct.models', 'mmdcct.datasets', 'mmdcct.evaluation'
])
def test_import_prints_no_mmcv_lite_warning(module):
    proc = subprocess.run(
        [sys.executable, '-W', 'default', '-c', f'import {module}'],
        capture_output=True,
        text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'MultiScaleDeformableAttention' not in proc.stderr
    assert 'mmcv-lite' not in proc.stderr

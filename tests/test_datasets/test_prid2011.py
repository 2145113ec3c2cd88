"""Tests of ``PRID2011`` on a synthetic PRID-2011 tree."""
import json
import os
import os.path as osp
import shutil

import pytest

from mmdcct.datasets import (PRID2011, generate_prid2011_splits,
                             prid2011_person_name)
from mmdcct.registry import DATASETS
from mmdcct.testing import make_synthetic_prid2011


def _build(root, split, **kwargs):
    # serialize_data=False skips MMEngine's gc.collect() (~0.3 s per build)
    kwargs.setdefault('serialize_data', False)
    return DATASETS.build(
        dict(type='PRID2011', data_root=root, split=split, **kwargs))


def _infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def _persons(infos):
    return [(f'person_{i["raw_pid"]:04d}', 'ab'[i['camid']]) for i in infos]


@pytest.fixture
def prid_copy(synthetic_prid2011, tmp_path):
    root = tmp_path / 'prid'
    shutil.copytree(synthetic_prid2011['out_dir'], root)
    return str(root)


@pytest.mark.parametrize('split_id', [0, 9])
def test_splits_follow_the_split_file(synthetic_prid2011, split_id):
    summary = synthetic_prid2011
    root = summary['out_dir']
    split = summary['splits'][split_id]
    # the protocol: eligible persons only, half / half
    assert len(summary['eligible']) == 10
    assert len(split['train']) == len(split['test']) == 5
    ds = _build(root, 'train', split_id=split_id)
    assert isinstance(ds, PRID2011)
    infos = _infos(ds)
    assert _persons(infos) == [(p, c) for p in split['train'] for c in 'ab']
    assert sorted({i['pid'] for i in infos}) == list(range(5))
    for info, key in zip(infos, _persons(infos)):
        assert [osp.basename(p) for p in info['img_paths']] == \
            summary['tracks'][key]
        assert osp.dirname(info['img_paths'][0]) == osp.join(
            root, 'prid_2011', 'multi_shot', f'cam_{key[1]}', key[0])
    q = _infos(_build(root, 'query', split_id=split_id))
    g = _infos(_build(root, 'gallery', split_id=split_id))
    assert _persons(q) == [(p, 'a') for p in split['test']]
    assert _persons(g) == [(p, 'b') for p in split['test']]
    used = {p for p, _ in _persons(infos + q + g)}
    assert used <= set(summary['eligible'])
    ds = _build(root, 'test', split_id=split_id)
    assert ds.metainfo['dataset_name'] == 'PRID-2011'
    assert ds.metainfo['split_source'] == 'file'
    assert len(ds) == 10


def test_split_file_with_person_numbers(tmp_path):
    summary = make_synthetic_prid2011(
        str(tmp_path / 'p'),
        num_persons=5,
        num_short=1,
        num_only_a=0,
        num_only_b=1,
        tracklet_len=(21, 22),
        img_size=(32, 16),
        num_splits=2,
        split_as_ids=True,
        zero_pad=False,
        seed=2)
    content = json.load(
        open(osp.join(summary['out_dir'], 'splits_prid2011.json')))
    assert all(isinstance(p, int) for p in content[0]['train'])
    ds = _build(summary['out_dir'], 'train', split_id=1)
    assert [p for p, c in _persons(_infos(ds))][::2] == \
        summary['splits'][1]['train']
    # unpadded 1.png .. 22.png sorted numerically
    for info in _infos(ds):
        frames = [int(osp.basename(p)[:-4]) for p in info['img_paths']]
        assert frames == list(range(1, len(frames) + 1))
    with pytest.raises(ValueError, match='split_id=2 is out of range'):
        _build(summary['out_dir'], 'train', split_id=2)


def test_person_names():
    assert prid2011_person_name(7) == 'person_0007'
    assert prid2011_person_name('12') == 'person_0012'
    assert prid2011_person_name('person_0200') == 'person_0200'
    with pytest.raises(ValueError, match='not a PRID-2011 person'):
        prid2011_person_name('cam_a')


def test_missing_split_file_generated_from_eligible_persons(
        synthetic_prid2011, prid_copy, mmlogger_messages):
    path = osp.join(prid_copy, 'splits_prid2011.json')
    os.remove(path)
    eligible = synthetic_prid2011['eligible']
    # persons 13.. exist in both camera folders but are different people
    # (as persons 201.. of the release): the rule keeps the first 12 (200)
    first = dict(split_num_persons=12)
    seen_test = set()
    for split_id in range(10):
        q = _infos(_build(prid_copy, 'query', split_id=split_id, **first))
        g = _infos(_build(prid_copy, 'gallery', split_id=split_id, **first))
        tr = _infos(_build(prid_copy, 'train', split_id=split_id, **first))
        test = [p for p, _ in _persons(q)]
        train = sorted({p for p, _ in _persons(tr)})
        assert [p for p, _ in _persons(g)] == test
        assert len(test) == len(train) == 5
        assert sorted(test + train) == eligible  # short/one-camera excluded
        expected = generate_prid2011_splits(eligible, 10, seed=0)[split_id]
        assert test == expected['test'] and train == expected['train']
        seen_test.add(tuple(test))
    assert len(seen_test) > 1
    warnings = [m for m in mmlogger_messages if m.startswith('WARNING')]
    assert len(warnings) == 30 and path in warnings[0]
    assert 'person_0001..person_0012' in warnings[0]
    assert 'split_seed=0' in warnings[0] and '>= 21 frames' in warnings[0]
    assert not osp.exists(path)
    # the "first N persons" rule
    ds = _build(prid_copy, 'test', split_num_persons=6)
    assert all(i['raw_pid'] <= 6 for i in _infos(ds))
    ds = _build(prid_copy, 'test', split_num_persons=200)
    assert max(i['raw_pid'] for i in _infos(ds)) > 12
    with pytest.raises(ValueError, match='Cannot generate PRID-2011 splits'):
        _build(prid_copy, 'test', split_min_frames=1000)


def test_split_id_out_of_range(synthetic_prid2011):
    with pytest.raises(ValueError) as exc:
        _build(synthetic_prid2011['out_dir'], 'query', split_id=11)
    assert 'split_id=11 is out of range' in str(exc.value)
    assert 'splits_prid2011.json holds 10 splits' in str(exc.value)


@pytest.mark.parametrize('content,match', [
    ({
        'train': []
    }, 'non-empty list'),
    ([{
        'train': ['person_0001']
    }], '"train" and "test" lists'),
    ([{
        'train': ['cam_a'],
        'test': []
    }], 'not a PRID-2011 person'),
    ([{
        'train': [1, 2],
        'test': [2, 3]
    }], 'both train and test'),
])
def test_bad_split_file(prid_copy, content, match):
    path = osp.join(prid_copy, 'splits_prid2011.json')
    with open(path, 'w') as f:
        json.dump(content, f)
    with pytest.raises(ValueError, match=match) as exc:
        _build(prid_copy, 'train')
    assert 'splits_prid2011.json' in str(exc.value)
    with open(path, 'w') as f:
        f.write('{not json')
    with pytest.raises(ValueError, match='Cannot read the split file'):
        _build(prid_copy, 'train')


def test_split_names_a_missing_person(prid_copy):
    path = osp.join(prid_copy, 'splits_prid2011.json')
    with open(path, 'w') as f:
        json.dump([{'train': [1], 'test': [999]}], f)
    with pytest.raises(FileNotFoundError) as exc:
        _build(prid_copy, 'query')
    assert osp.join(prid_copy, 'prid_2011', 'multi_shot', 'cam_a',
                    'person_0999') in str(exc.value)
    assert 'Expected layout' in str(exc.value)


def test_missing_data_root(tmp_path):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError) as exc:
        _build(missing, 'train')
    assert missing in str(exc.value)
    assert 'prid_2011/multi_shot/' in str(exc.value)
    assert 'splits_prid2011.json' in str(exc.value)


def test_empty_person_folder_skipped(synthetic_prid2011, prid_copy,
                                     mmlogger_messages):
    person = synthetic_prid2011['splits'][0]['test'][0]
    folder = osp.join(prid_copy, 'prid_2011', 'multi_shot', 'cam_b', person)
    for name in os.listdir(folder):
        os.remove(osp.join(folder, name))
    ds = _build(prid_copy, 'test')
    assert len(ds) == 9
    assert any(folder in m and 'empty tracklet' in m for m in mmlogger_messages
               if m.startswith('WARNING'))

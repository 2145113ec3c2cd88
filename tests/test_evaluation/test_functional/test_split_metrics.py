import numpy as np
import pytest
import torch

from mmdcct.evaluation.functional import (aggregate_split_metrics,
                                          format_split_metrics,
                                          parse_split_ids)


def _splits():
    rng = np.random.default_rng(0)
    return {
        i:
        dict(
            mAP=float(rng.uniform(60, 90)),
            mINP=50.0,
            R1=float(rng.uniform(80, 95)),
            R5=98.0,
            R10=99.0,
            R20=torch.tensor(100.0),
            note='x')
        for i in range(10)
    }


def test_mean_and_std():
    splits = _splits()
    agg = aggregate_split_metrics(splits)
    assert list(agg) == ['mAP', 'mINP', 'R1', 'R5', 'R10', 'R20']
    maps = [splits[i]['mAP'] for i in range(10)]
    assert agg['mAP']['mean'] == pytest.approx(np.mean(maps))
    assert agg['mAP']['std'] == pytest.approx(np.std(maps))
    assert agg['mAP']['values'] == pytest.approx(maps)
    assert agg['mAP']['min'] == min(maps) and agg['mAP']['max'] == max(maps)
    assert agg['R20'] == dict(
        mean=100.0,
        std=0.0,
        min=100.0,
        max=100.0,
        values=[100.0] * 10,
        num_splits=10)
    sample = aggregate_split_metrics(
        list(splits.values()), keys=['mAP'], ddof=1)
    assert list(sample) == ['mAP']
    assert sample['mAP']['std'] == pytest.approx(np.std(maps, ddof=1))


def test_errors():
    with pytest.raises(ValueError, match='at least one split'):
        aggregate_split_metrics([])
    with pytest.raises(ValueError, match="Split 1 has no metric 'R1'"):
        aggregate_split_metrics({
            0: dict(R1=1.0),
            1: dict(mAP=2.0)
        },
                                keys=['R1'])
    with pytest.raises(ValueError, match='not a number'):
        aggregate_split_metrics([dict(R1='a')], keys=['R1'])
    with pytest.raises(ValueError, match='ddof'):
        aggregate_split_metrics([dict(R1=1.0)], ddof=1)
    # a key missing from one split is left out by default
    agg = aggregate_split_metrics([dict(R1=1.0, mAP=2.0), dict(R1=3.0)])
    assert list(agg) == ['R1'] and agg['R1']['mean'] == 2.0


def test_table():
    table = format_split_metrics({
        3: dict(mAP=80.0, R1=90.0),
        4: dict(mAP=84.0, R1=92.0)
    })
    lines = table.splitlines()
    assert lines[0].split() == ['split', '|', 'mAP', '|', 'R1']
    assert lines[2].split() == ['3', '|', '80.0', '|', '90.0']
    assert lines[-1].replace(' ', '') == 'mean±std|82.0±2.0|91.0±1.0'


def test_parse_split_ids():
    assert parse_split_ids('0-9') == list(range(10))
    assert parse_split_ids('0,2,5') == [0, 2, 5]
    assert parse_split_ids('0-2,1,7') == [0, 1, 2, 7]
    for bad in ('', '3-1', 'a', '-1', '1-b'):
        with pytest.raises(ValueError, match='split'):
            parse_split_ids(bad)

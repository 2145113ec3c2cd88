"""Aggregation of the metrics of several random splits (iLIDS-VID,
PRID-2011: the protocol reports the mean over 10 splits)."""
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

__all__ = [
    'aggregate_split_metrics', 'format_split_metrics', 'parse_split_ids'
]

SplitMetrics = Union[Sequence[Mapping[str, float]],
                     Mapping[int, Mapping[str, float]]]


def _as_items(split_metrics: SplitMetrics) -> List[tuple]:
    """``[(split name, metrics), ...]`` from a list or a dict."""
    if isinstance(split_metrics, Mapping):
        return [(k, v) for k, v in split_metrics.items()]
    return [(i, v) for i, v in enumerate(split_metrics)]


def _is_number(value) -> bool:
    if isinstance(value, bool):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def aggregate_split_metrics(
        split_metrics: SplitMetrics,
        keys: Optional[Sequence[str]] = None,
        ddof: int = 0) -> Dict[str, Dict[str, Union[float, List[float]]]]:
    """Mean and standard deviation of each metric over splits.

    Args:
        split_metrics (Sequence[Mapping] | Mapping[int, Mapping]): The
            metrics of every split (e.g. what ``runner.test()`` returns),
            as a list or as ``{split_id: metrics}``.
        keys (Sequence[str], optional): The metrics to aggregate, in this
            order. Defaults to None: every numeric metric that all splits
            report, in the order of the first split.
        ddof (int): Delta degrees of freedom of the standard deviation:
            0 (default) for the population std over the splits, 1 for the
            sample std.

    Returns:
        dict[str, dict]: For every key ``dict(mean=float, std=float,
        min=float, max=float, values=list[float], num_splits=int)``.

    Raises:
        ValueError: If no split is given, or a requested key is missing
            from a split or not numeric (the message names the split).

    Examples:
        >>> agg = aggregate_split_metrics([{'mAP': 80.0, 'R1': 90.0},
        ...                                {'mAP': 84.0, 'R1': 92.0}])
        >>> agg['mAP']['mean'], agg['mAP']['std']
        (82.0, 2.0)
    """
    items = _as_items(split_metrics)
    if not items:
        raise ValueError('aggregate_split_metrics needs at least one split.')
    if ddof < 0 or (ddof > 0 and len(items) <= ddof):
        raise ValueError(f'ddof={ddof} needs more than {ddof} splits, got '
                         f'{len(items)}.')
    if keys is None:
        first = items[0][1]
        keys = [
            k for k, v in first.items() if _is_number(v) and all(
                k in m and _is_number(m[k]) for _, m in items)
        ]
    out: Dict[str, Dict[str, Union[float, List[float]]]] = {}
    for key in keys:
        values = []
        for name, metrics in items:
            if key not in metrics:
                raise ValueError(f'Split {name} has no metric {key!r} (it has '
                                 f'{sorted(metrics)}).')
            if not _is_number(metrics[key]):
                raise ValueError(f'Metric {key!r} of split {name} is not a '
                                 f'number: {metrics[key]!r}.')
            values.append(float(metrics[key]))
        arr = np.asarray(values, dtype=np.float64)
        out[key] = dict(
            mean=float(arr.mean()),
            std=float(arr.std(ddof=ddof)),
            min=float(arr.min()),
            max=float(arr.max()),
            values=values,
            num_splits=len(values))
    return out


def format_split_metrics(split_metrics: SplitMetrics,
                         keys: Optional[Sequence[str]] = None,
                         ddof: int = 0,
                         digits: int = 1) -> str:
    """A table of per-split metrics and their mean ± std.

    Args:
        split_metrics (Sequence[Mapping] | Mapping[int, Mapping]): As for
            :func:`aggregate_split_metrics`.
        keys (Sequence[str], optional): The columns. Defaults to None (see
            :func:`aggregate_split_metrics`).
        ddof (int): See :func:`aggregate_split_metrics`. Defaults to 0.
        digits (int): Decimals. Defaults to 1.

    Returns:
        str: The table, one row per split and a final ``mean ± std`` row.
    """
    agg = aggregate_split_metrics(split_metrics, keys=keys, ddof=ddof)
    items = _as_items(split_metrics)
    names = list(agg)
    cells = [[
        f'{agg[k]["mean"]:.{digits}f} ± {agg[k]["std"]:.{digits}f}'
        for k in names
    ]]
    width = max([len(c) for c in cells[0]] + [len(k) for k in names] + [5])
    head = f'{"split":<12}' + ''.join(f' | {k:>{width}}' for k in names)
    rule = '-' * len(head)
    lines = [head, rule]
    for i, (name, metrics) in enumerate(items):
        row = ''.join(f' | {agg[k]["values"][i]:>{width}.{digits}f}'
                      for k in names)
        lines.append(f'{str(name):<12}' + row)
    lines.append(rule)
    lines.append(f'{"mean ± std":<12}' + ''.join(f' | {c:>{width}}'
                                                 for c in cells[0]))
    return '\n'.join(lines)


def parse_split_ids(selection: str) -> List[int]:
    """Parse a split selection such as ``'0-9'``, ``'0,2,5'`` or
    ``'0-3,7'``.

    Args:
        selection (str): Comma-separated ids and inclusive ranges.

    Returns:
        list[int]: The ids, in the given order, without duplicates.

    Raises:
        ValueError: If ``selection`` is malformed or a range is decreasing.
    """
    out: List[int] = []
    for part in str(selection).split(','):
        part = part.strip()
        if not part:
            continue
        try:
            if '-' in part:
                lo, hi = (int(x) for x in part.split('-', 1))
                if lo > hi or lo < 0:
                    raise ValueError
                ids = list(range(lo, hi + 1))
            else:
                ids = [int(part)]
                if ids[0] < 0:
                    raise ValueError
        except ValueError:
            raise ValueError(
                f'Bad split selection {selection!r}: expected non-negative '
                'ids and increasing ranges such as "0-9" or "0,2,5".'
            ) from None
        out += [i for i in ids if i not in out]
    if not out:
        raise ValueError(f'Bad split selection {selection!r}: no split id.')
    return out

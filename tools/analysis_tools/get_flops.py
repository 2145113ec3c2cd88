"""Parameters and FLOPs of video Re-ID configs, per component and per frame.

For every config the model is built without pretrained weights (every
``Pretrained`` ``init_cfg`` removed: nothing is downloaded) and run on one
tracklet of ``T x 3 x H x W`` random (already normalised) frames in two test
modes: ``feature='base'`` (the backbones only, the efficient mode) and the
full model (``feature='all'``: backbones, spatial neck, temporal neck and
the head's BN-necks). FLOPs are MMEngine's (fvcore's) count: one fused
multiply-add = one FLOP; "per frame" = total / T.

If a config is one of DCCT's Tab. V rows (or with ``--paper-table``), a table
next to the paper's numbers is printed too. ``--paper-table`` without
configs measures all six Tab. V configs.

Examples::

    python tools/analysis_tools/get_flops.py configs/dcct/dcct_mars.py
    python tools/analysis_tools/get_flops.py configs/dcct/dcct_demo.py
    python tools/analysis_tools/get_flops.py --paper-table
    python tools/analysis_tools/get_flops.py CONFIG --shape 8 256 128 \\
        --out work_dirs/flops.json
"""
import argparse
import json
import os.path as osp
import sys
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config, DictAction

from mmdcct.utils.complexity import config_input_shape as default_shape

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

__all__ = [
    'PAPER_TAB5', 'TAB5_CONFIGS', 'default_shape', 'measure_config',
    'tab5_row', 'parse_args', 'main'
]

#: Tab. V row -> config (relative to the repository root).
TAB5_CONFIGS: 'OrderedDict[str, str]' = OrderedDict([
    ('ResNet-50', 'configs/dcct/ablations/single_r50_2xb8-50e_mars.py'),
    ('ViT-Base', 'configs/dcct/ablations/single_vit-b_2xb8-50e_mars.py'),
    ('Coupled', 'configs/dcct/coupled_r50-vit-b_2xb8-50e_mars.py'),
    ('+ CCA', 'configs/dcct/ablations/coupled-cca_r50-vit-b_2xb8-50e_mars.py'),
    ('+ HTA',
     'configs/dcct/ablations/coupled-cca-hta_r50-vit-b_2xb8-50e_mars.py'),
    ('+ KD', 'configs/dcct/dcct_r50-vit-b_2xb8-50e_mars.py'),
])

#: DCCT Tab. V (MARS): row -> (GFLOPs, params in M, mAP, R1) as printed in
#: the paper (8 frames of 256x128; the paper does not say per frame or not,
#: nor which counter it used).
PAPER_TAB5: 'OrderedDict[str, Tuple[float, float, float, float]]' = \
    OrderedDict([
        ('ResNet-50', (3.26, 22.42, 82.4, 89.9)),
        ('ViT-Base', (8.83, 81.64, 83.6, 90.4)),
        ('Coupled', (12.09, 104.07, 85.0, 91.1)),
        ('+ CCA', (13.07, 125.54, 85.5, 91.4)),
        ('+ HTA', (13.15, 222.61, 87.2, 92.1)),
        ('+ KD', (13.15, 222.61, 87.5, 92.3)),
    ])

#: Other configs with the same model as a Tab. V row (aliases).
_TAB5_ALIASES = {
    'dcct_mars': '+ KD',
}


def tab5_row(config: str) -> Optional[str]:
    """The Tab. V row a config reproduces, or None."""
    stem = osp.splitext(osp.basename(config))[0]
    for row, path in TAB5_CONFIGS.items():
        if osp.splitext(osp.basename(path))[0] == stem:
            return row
    return _TAB5_ALIASES.get(stem)


def measure_config(config: str,
                   shape: Optional[Sequence[int]] = None,
                   cfg_options: Optional[dict] = None) -> Dict[str, Any]:
    """Build a config's model (no pretrained weights) and measure it.

    Args:
        config (str): Config path.
        shape (Sequence[int], optional): ``(T, H, W)``; defaults to
            :func:`default_shape`.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        dict: ``config``, ``shape`` ``(T, H, W)``, ``base`` and ``full``
        (the results of :func:`mmdcct.utils.complexity.model_complexity`
        with ``feature='base'`` and ``'all'``; ``full`` is ``base`` for a
        model without a head) and ``tab5_row``.
    """
    from mmdcct.registry import MODELS
    from mmdcct.utils import register_all_modules
    from mmdcct.utils.complexity import model_complexity
    from mmdcct.utils.config_utils import remove_pretrained_init

    register_all_modules()
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    num_frames, height, width = shape or default_shape(cfg)
    model = MODELS.build(remove_pretrained_init(cfg.model))
    base = model_complexity(model, num_frames, (height, width), 'base')
    full = (
        model_complexity(model, num_frames, (height, width), 'all') if getattr(
            model, 'head', None) is not None else base)
    return dict(
        config=config,
        shape=(num_frames, height, width),
        base=base,
        full=full,
        tab5_row=tab5_row(config))


def _table(header: Sequence[str], rows: List[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]

    def line(cells):
        return '| ' + ' | '.join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths))) + ' |'

    sep = '|' + '|'.join('-' * (w + 2) for w in widths) + '|'
    return '\n'.join([line(header), sep] + [line(r) for r in rows])


def format_breakdown(result: Dict[str, Any]) -> str:
    """A component table of one :func:`measure_config` result."""
    base, full = result['base'], result['full']
    num_frames, height, width = result['shape']
    rows = []
    for key, comp in full['components'].items():
        rows.append((key, f"{comp['params'] / 1e6:.2f}",
                     f"{comp['params_inference'] / 1e6:.2f}",
                     f"{base['components'][key]['flops_per_frame'] / 1e9:.3f}",
                     f"{comp['flops_per_frame'] / 1e9:.3f}"))
    rows.append(('total', f"{full['params'] / 1e6:.2f}",
                 f"{base['params_inference'] / 1e6:.2f} (base) / "
                 f"{full['params_inference'] / 1e6:.2f} (full)",
                 f"{base['flops_per_frame'] / 1e9:.3f}",
                 f"{full['flops_per_frame'] / 1e9:.3f}"))
    lines = [
        f"{result['config']}",
        f'input: 1 tracklet x {num_frames} frames x 3 x {height} x {width}; '
        f'GFLOPs per frame = total / {num_frames} (1 FLOP = 1 multiply-add)',
        _table(('component', 'params (M)', 'params used at test (M)',
                "GFLOPs/frame feature='base'", 'GFLOPs/frame full'), rows),
    ]
    skipped = full['unsupported_ops'] + base['unsupported_ops']
    if skipped:
        lines.append('not counted (no FLOP handle): ' +
                     ', '.join(f'{op} x{n}'
                               for op, n in sorted(skipped.items())))
    return '\n'.join(lines)


def format_paper_table(results: Sequence[Dict[str, Any]]) -> str:
    """Ours next to the paper's Tab. V rows, for the Tab. V results."""
    rows = []
    for res in results:
        row = res['tab5_row']
        if row is None:
            continue
        flops, params, m_ap, rank1 = PAPER_TAB5[row]
        full, base = res['full'], res['base']
        rows.append(
            (row, f'{flops:.2f}', f"{full['flops_per_frame'] / 1e9:.2f}",
             f"{base['flops_per_frame'] / 1e9:.2f}", f'{params:.2f}',
             f"{full['params_inference'] / 2**20:.2f}",
             f"{full['params_inference'] / 1e6:.2f}",
             f"{full['params'] / 1e6:.2f}", f'{m_ap} / {rank1}',
             osp.basename(res['config'])))
    if not rows:
        return ''
    header = ('Tab. V', 'paper GFLOPs', 'GFLOPs/frame full',
              "GFLOPs/frame 'base'", 'paper params', 'params at test (2^20)',
              'params at test (1e6)', 'all params (1e6)', 'paper mAP / R1',
              'config')
    return ('DCCT Tab. V (MARS) vs this implementation, per frame of the '
            'given input. "params at test": the modules the full model runs '
            '(no classifiers / hint nets), also in units of 2^20 - the unit '
            'the paper\'s backbone rows match; "all params": everything '
            'trained.\n' + _table(header, rows))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Parameters and per-frame FLOPs of video Re-ID configs')
    parser.add_argument(
        'config',
        nargs='*',
        help='config file(s); none with --paper-table '
        'measures the six Tab. V configs')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=3,
        metavar=('T', 'H', 'W'),
        help='frames per tracklet and frame size; defaults to the config\'s '
        'test pipeline (8 256 128 for the MARS configs)')
    parser.add_argument(
        '--paper-table',
        action='store_true',
        help='print the comparison with the paper\'s Tab. V (with no config:'
        ' for all Tab. V configs)')
    parser.add_argument('--out', help='write the results to this JSON file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config(s), key=value pairs')
    args = parser.parse_args(argv)
    if not args.config and not args.paper_table:
        parser.error('give a CONFIG or --paper-table')
    return args


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def main(argv: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
    args = parse_args(argv)
    configs = list(args.config) or [
        osp.join(REPO, path) for path in TAB5_CONFIGS.values()
    ]
    results = []
    for config in configs:
        res = measure_config(config, args.shape, args.cfg_options)
        results.append(res)
        print(format_breakdown(res), end='\n\n', flush=True)
    if args.paper_table or any(r['tab5_row'] for r in results):
        table = format_paper_table(results)
        if table:
            print(table)
        elif args.paper_table:
            print('None of the configs is a Tab. V config: ' +
                  ', '.join(TAB5_CONFIGS.values()))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(_jsonable(results), f, indent=2)
    return results


if __name__ == '__main__':
    main(sys.argv[1:])

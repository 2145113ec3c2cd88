"""tools/analysis_tools/get_flops.py on the demo config (no downloads)."""
import importlib.util
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def get_flops():
    path = osp.join(REPO, 'tools/analysis_tools/get_flops.py')
    spec = importlib.util.spec_from_file_location('get_flops', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_breakdown(get_flops, capsys, tmp_path):
    out = tmp_path / 'flops.json'
    results = get_flops.main(
        [osp.join(REPO, 'configs/dcct/dcct_demo.py'), '--out',
         str(out)])
    text = capsys.readouterr().out
    assert 'spatial_neck (ComplementaryContentAttention)' in text
    assert "GFLOPs/frame feature='base'" in text
    assert 'Tab. V' not in text  # not a Tab. V config
    assert out.exists()
    (res, ) = results
    assert res['shape'] == (4, 64, 32)  # the demo's T and frame size
    assert res['full']['flops'] > res['base']['flops']
    assert res['tab5_row'] is None


def test_shape_option_and_tab5_mapping(get_flops):
    args = get_flops.parse_args(['x.py', '--shape', '8', '256', '128'])
    assert args.shape == [8, 256, 128]
    # one paper row per Tab. V config, in the paper's order
    assert list(get_flops.PAPER_TAB5) == list(get_flops.TAB5_CONFIGS) == [
        'ResNet-50', 'ViT-Base', 'Coupled', '+ CCA', '+ HTA', '+ KD'
    ]
    assert get_flops.PAPER_TAB5['+ HTA'][:2] == (13.15, 222.61)
    for row, path in get_flops.TAB5_CONFIGS.items():
        assert osp.exists(osp.join(REPO, path)), path
        assert get_flops.tab5_row(path) == row
    assert get_flops.tab5_row('configs/dcct/dcct_mars.py') == '+ KD'
    assert get_flops.tab5_row('configs/dcct/dcct_demo.py') is None
    with pytest.raises(SystemExit):
        get_flops.parse_args([])


def test_paper_table_next_to_ours(get_flops):
    res = get_flops.measure_config(osp.join(REPO, 'configs/dcct/dcct_demo.py'))
    assert get_flops.format_paper_table([res]) == ''
    res['tab5_row'] = '+ KD'
    table = get_flops.format_paper_table([res])
    assert '+ KD' in table and '13.15' in table and '222.61' in table
    assert '87.5 / 92.3' in table

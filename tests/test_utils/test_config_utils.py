from mmengine.config import ConfigDict

from mmdcct.utils.config_utils import remove_pretrained_init

PRETRAINED = dict(
    type='Pretrained', checkpoint='https://x/y.pth', prefix='backbone.')


def test_removes_pretrained_at_any_depth_and_keeps_other_inits():
    cfg = ConfigDict(
        type='VideoReID',
        init_cfg=PRETRAINED,
        backbone=dict(
            cnn=dict(type='A', init_cfg=PRETRAINED),
            transformer=dict(
                type='B',
                init_cfg=[
                    PRETRAINED,
                    dict(type='Constant', layer='LayerNorm', val=1)
                ]),
            others=[dict(type='C', init_cfg=[PRETRAINED])]),
        head=dict(type='H', init_cfg=dict(type='Normal', std=0.01)))
    out = remove_pretrained_init(cfg)
    assert isinstance(out, dict) and not isinstance(out, ConfigDict)
    assert 'init_cfg' not in out
    assert 'init_cfg' not in out['backbone']['cnn']
    assert out['backbone']['transformer']['init_cfg'] == [
        dict(type='Constant', layer='LayerNorm', val=1)
    ]
    assert 'init_cfg' not in out['backbone']['others'][0]
    assert out['head']['init_cfg'] == dict(type='Normal', std=0.01)
    # the input is untouched
    assert cfg.backbone.cnn.init_cfg.type == 'Pretrained'


def test_plain_values_and_lists_pass_through():
    assert remove_pretrained_init([1, 'a', None]) == [1, 'a', None]
    assert remove_pretrained_init(dict(a=(1, 2))) == dict(a=(1, 2))

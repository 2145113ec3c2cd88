# Tab. IV "DenseNet-121": the CNN alone (ImageNet-pretrained DenseNet-121,
# 1024 ch at stride 32 -> 8x4 positions), video feature TAP(GAP), supervised
# per frame through a BN-neck; the paper's SGD recipe on MARS.
# Paper: 83.0 mAP / 90.5 R1.
_base_ = [
    '../../_base_/models/single-backbone.py',
    '../../_base_/datasets/mars.py',
    '../../_base_/schedules/sgd_50e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        backbone=dict(
            _delete_=True,
            type='mmpretrain.DenseNet',
            arch='121',
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/densenet/densenet121_4xb256_in1k_20220426-07450f99.pth',
                prefix='backbone.'))),
    head=dict(in_channels=(1024, )))

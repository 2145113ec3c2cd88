# Tab. IV "MobileNet-v2": the CNN alone (ImageNet-pretrained MobileNet-V2,
# 1x width, its 1280-ch last conv at stride 32 -> 8x4 positions), video
# feature TAP(GAP), supervised per frame through a BN-neck; the paper's SGD
# recipe on MARS.
# Paper: 80.1 mAP / 88.0 R1.
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
            type='mmpretrain.MobileNetV2',
            widen_factor=1.0,
            out_indices=(7, ),
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/mobilenet_v2/'
                'mobilenet_v2_batch256_imagenet_20200708-3b2dc3af.pth',
                prefix='backbone.'))),
    head=dict(in_channels=(1280, )))

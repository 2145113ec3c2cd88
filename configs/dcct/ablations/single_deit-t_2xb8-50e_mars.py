# Tab. IV "DeiT-Tiny": the transformer alone (ImageNet-pretrained DeiT-Tiny,
# 192 ch, 16x16 patches on 256x128 -> 16x8 tokens + class token), video
# feature TAP(class token), supervised per frame through a BN-neck (shift
# frozen); the paper's SGD recipe on MARS.
# Paper: 75.7 mAP / 85.6 R1.
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
            type='mmpretrain.VisionTransformer',
            arch='deit-tiny',
            img_size=(256, 128),
            patch_size=16,
            drop_path_rate=0.1,
            out_type='raw',
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/deit/deit-tiny_pt-4xb256_in1k_20220218-13b382a0.pth',
                prefix='backbone.')),
        global_type='cls_token'),
    head=dict(in_channels=(192, ), freeze_bias=(True, )))

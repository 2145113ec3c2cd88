# Tab. IV "Coupled" MobileNet-v2 + DeiT-Tiny: the Coupled
# baseline (test feature concat(TAP(gc), TAP(gt)), one BN-neck per branch,
# every frame supervised, BN shift frozen on the transformer feature) with
# the light pair of backbones; the paper's SGD recipe on MARS.
# Paper: 82.3 mAP / 89.7 R1.
_base_ = [
    '../../_base_/models/coupled_r50-vit-b.py',
    '../../_base_/datasets/mars.py',
    '../../_base_/schedules/sgd_50e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        cnn=dict(
            _delete_=True,
            type='mmpretrain.MobileNetV2',
            widen_factor=1.0,
            out_indices=(7, ),
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/mobilenet_v2/'
                'mobilenet_v2_batch256_imagenet_20200708-3b2dc3af.pth',
                prefix='backbone.')),
        transformer=dict(
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
        cnn_global='avg',
        transformer_global='cls_token'),
    head=dict(in_channels=(1280, 192), num_classes=625))

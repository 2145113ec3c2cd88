# Tab. IV / Tab. V "ViT-Base": the transformer branch alone (ViT-B/16 on
# 256x128, position embedding resized to 16x8, drop-path 0.1), video feature
# TAP(class token) through a BN-neck; the paper's SGD recipe on MARS.
# Paper: 83.6 mAP / 90.4 R1, 8.83 GFLOPs, 81.64 M params.
_base_ = [
    '../../_base_/models/coupled_r50_vit-b.py',
    '../../_base_/datasets/mars.py',
    '../../_base_/schedules/sgd_50e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='SingleBackbone',
        backbone=dict(
            type='mmpretrain.VisionTransformer',
            arch='b',
            img_size=(256, 128),
            patch_size=16,
            drop_path_rate=0.1,
            out_type='raw',
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/vit/finetune/'
                'vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_'
                '20210928-98e8652b.pth',
                prefix='backbone.')),
        # the class token, as the transformer branch of the coupled model
        global_type='cls_token'),
    head=dict(in_channels=(768, ), num_classes=625))

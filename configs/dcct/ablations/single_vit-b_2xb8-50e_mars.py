# Tab. IV / Tab. V "ViT-Base" (and Tab. VI "Backbone", ViT-Base column): the
# transformer branch alone (ViT-B/16 on 256x128, position embedding resized
# to 16x8, drop-path 0.1), video feature TAP(class token), supervised per
# frame through a BN-neck (shift frozen); the paper's SGD recipe on MARS.
# Paper: 83.6 mAP / 90.4 R1, 8.83 GFLOPs, 81.64 M params.
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
            arch='b',
            img_size=(256, 128),
            patch_size=16,
            drop_path_rate=0.1,
            out_type='raw',
            # the authors' starting weights, as the coupled model's ViT-B
            # (../../_base_/models/pretrained/authors_r50-vit-b.py)
            interpolate_mode='bilinear',
            init_cfg=dict(
                type='Pretrained',
                checkpoint='timm-vit://https://github.com/rwightman/'
                'pytorch-image-models/releases/download/v0.1-vitjx/'
                'jx_vit_base_p16_224-80ecf9dd.pth')),
        # the class token, as the transformer branch of the coupled model
        global_type='cls_token'),
    head=dict(in_channels=(768, ), freeze_bias=(True, )))

# DCCT with a light CNN / transformer pair: EfficientNet-B0 (CNN branch) +
# DeiT-S/16 (transformer branch), ImageNet-1k pre-trained (mmpretrain model
# zoo), with the unchanged CCA / HTA necks and SelfDistillationHead of
# configs/_base_/models/dcct_r50-vit-b.py; the paper's SGD recipe on MARS.
#   bash tools/dist_train.sh THIS_CONFIG 2   (see ../README.md)
# Widths: EfficientNet-B0 1280 channels on an 8x4 map (its final 1x1 conv,
# stride 32 at 256x128); DeiT-S 384 channels, class token + 16x8 patches
# (position embedding resized from 14x14 when the weights are loaded).
_base_ = [
    '../../../configs/_base_/models/dcct_r50-vit-b.py',
    '../../../configs/_base_/datasets/mars.py',
    '../../../configs/_base_/schedules/sgd_50e.py',
    '../../../configs/_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        cnn=dict(
            _delete_=True,
            type='mmpretrain.EfficientNet',
            arch='b0',
            out_indices=(6, ),
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/efficientnet/'
                'efficientnet-b0_3rdparty_8xb32_in1k_20220119-a7e2a0b1.pth',
                prefix='backbone.')),
        transformer=dict(
            _delete_=True,
            type='mmpretrain.VisionTransformer',
            arch='deit-small',
            img_size=(256, 128),
            patch_size=16,
            drop_path_rate=0.1,
            out_type='raw',
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/deit/deit-small_pt-4xb256_in1k_20220218-9425b9bb.pth',
                prefix='backbone.')),
        cnn_global='avg',
        transformer_global='cls_token'))
# Only the backbones change: the input widths of CCA, HTA and the head are
# taken from them when the model is built.

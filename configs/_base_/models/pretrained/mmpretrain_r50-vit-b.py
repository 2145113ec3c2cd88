# Starting weights of the ResNet-50 + ViT-B/16 pair: mmpretrain's, NOT the
# DCCT authors' (those are ./authors_r50-vit-b.py, the default). To use this
# pair, set the first `_base_` of ../coupled_r50-vit-b.py to this file.
# - ResNet-50: mmpretrain's ImageNet-1k model (resnet50_8xb32_in1k).
# - ViT-B/16: ImageNet-21k pre-trained, ImageNet-1k fine-tuned at 384 px
#   (mmpretrain's port); its 24x24 position grid is resized to 16x8
#   bicubically, mmpretrain's default.
model = dict(
    backbone=dict(
        cnn=dict(
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
                prefix='backbone.')),
        transformer=dict(
            interpolate_mode='bicubic',
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/vit/finetune/'
                'vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_'
                '20210928-98e8652b.pth',
                prefix='backbone.'))))

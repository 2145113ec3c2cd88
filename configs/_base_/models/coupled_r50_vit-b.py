# The paper's "Coupled" baseline: ResNet-50 (last stride 1) + ViT-B/16 side
# by side on every 256x128 frame; video feature = concat(TAP(gc), TAP(gt)).
model = dict(
    type='VideoReID',
    data_preprocessor=dict(
        type='VideoReIDDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='CoupledBackbone',
        cnn=dict(
            type='mmpretrain.ResNet',
            depth=50,
            strides=(1, 2, 2, 1),
            out_indices=(3, ),
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
                prefix='backbone.')),
        transformer=dict(
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
        cnn_global='avg',
        transformer_global='cls_token'),
    head=dict(
        type='VideoReIDHead',
        num_classes=625,
        in_channels=(2048, 768),
        loss_ce=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
        loss_triplet=dict(
            type='TripletLoss', margin=0.3, distance='cosine',
            loss_weight=1.0)),
    test_cfg=dict(feature='base'))

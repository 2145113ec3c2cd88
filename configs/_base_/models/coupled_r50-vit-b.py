# The paper's "Coupled" baseline: ResNet-50 (last stride 1) + ViT-B/16 side
# by side on every 256x128 frame; video feature = concat(TAP(gc), TAP(gt)).
# Starting weights (the backbones' `init_cfg`): the authors' pair,
# torchvision's ResNet-50 + the original 224 px ViT-B/16
# (./pretrained/authors_r50-vit-b.py). One-line switch to mmpretrain's pair:
# _base_ = ['./pretrained/mmpretrain_r50-vit-b.py'].
_base_ = ['./pretrained/authors_r50-vit-b.py']

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
            out_indices=(3, )),
        transformer=dict(
            type='mmpretrain.VisionTransformer',
            arch='b',
            img_size=(256, 128),
            patch_size=16,
            drop_path_rate=0.1,
            out_type='raw'),
        cnn_global='avg',
        transformer_global='cls_token'),
    head=dict(
        type='BNNeckHead',
        num_classes=625,  # in_channels: from the backbones (2048, 768)
        loss_ce=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
        # Mine triplets over the batches of all ranks, as the authors'
        # nn.DataParallel does: 2 GPUs x 8 tracklets mine like one batch of
        # 16 (the gradient DDP applies is that of the global batch). The
        # same as off in one process.
        loss_triplet=dict(
            type='TripletLoss', margin=0.3, distance='cosine',
            loss_weight=1.0, gather_across_ranks=True),
        # As the authors' code: every frame supervised (CE over the B*T
        # frames, triplet per time index), the BN shift frozen on the ViT
        # feature only.
        supervision='frame',
        freeze_bias=(False, True)),
    test_cfg=dict(feature='base'))

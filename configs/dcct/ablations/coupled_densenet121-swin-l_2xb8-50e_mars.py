# Tab. IV "Coupled" DenseNet-121 + Swin-Large: the Coupled
# baseline (test feature concat(TAP(gc), TAP(gt)), one BN-neck per branch,
# every frame supervised, BN shift frozen on the transformer feature) with
# the large pair of backbones; the paper's SGD recipe on MARS.
# Paper: 86.3 mAP / 91.5 R1 (the best pair of Tab. IV).
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
            type='mmpretrain.DenseNet',
            arch='121',
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/densenet/densenet121_4xb256_in1k_20220426-07450f99.pth',
                prefix='backbone.')),
        transformer=dict(
            _delete_=True,
            type='mmpretrain.SwinTransformer',
            arch='large',
            img_size=(256, 128),
            window_size=7,
            out_indices=(3, ),
            drop_path_rate=0.1,
            # pad the 8x4 last-stage map to the 7x7 window (pre-trained
            # relative position bias tables stay valid)
            pad_small_map=True,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/swin-transformer/convert/'
                'swin_large_patch4_window7_224_22kto1k-5f0996db.pth',
                prefix='backbone.')),
        cnn_global='avg',
        # Swin has no class token: its global feature is the GAP
        transformer_global='avg'),
    head=dict(in_channels=(1024, 1536), num_classes=625))

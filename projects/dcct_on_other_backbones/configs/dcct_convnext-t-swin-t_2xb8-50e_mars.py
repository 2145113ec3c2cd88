# DCCT with another CNN / transformer pair: ConvNeXt-T (CNN branch) + Swin-T
# (transformer branch), ImageNet-1k pre-trained (mmpretrain model zoo), with
# the unchanged CCA / HTA necks and SelfDistillationHead of
# configs/_base_/models/dcct_r50-vit-b.py; the paper's SGD recipe on MARS.
#   bash tools/dist_train.sh THIS_CONFIG 2   (see ../README.md)
# Widths: ConvNeXt-T 768 channels on an 8x4 map (stride 32 at 256x128);
# Swin-T 768 channels on an 8x4 map. Swin has no class token: its global
# feature is the GAP of its map.
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
            type='mmpretrain.ConvNeXt',
            arch='tiny',
            out_indices=(3, ),
            # keep the last-stage map (N, 768, h, w): CCA needs positions
            gap_before_final_norm=False,
            drop_path_rate=0.1,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/convnext/convnext-tiny_32xb128_in1k_20221207-998cf3e9.pth',
                prefix='backbone.')),
        transformer=dict(
            _delete_=True,
            type='mmpretrain.SwinTransformer',
            arch='tiny',
            img_size=(256, 128),
            window_size=7,
            out_indices=(3, ),
            drop_path_rate=0.1,
            # pad the 8x4 last-stage map to the 7x7 window so that the
            # pre-trained relative position bias tables stay valid
            pad_small_map=True,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/swin-transformer/'
                'swin_tiny_224_b16x64_300e_imagenet_20210616_090925-66df6be6'
                '.pth',
                prefix='backbone.')),
        cnn_global='avg',
        transformer_global='avg'))
# Only the backbones change: the input widths of CCA, HTA and the head are
# taken from them when the model is built.

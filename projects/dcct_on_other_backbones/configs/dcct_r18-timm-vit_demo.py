# configs/dcct/dcct_demo.py with ONLY the transformer branch changed: a timm
# ViT through mmpretrain's TIMMBackbone, sized as the demo's mmpretrain ViT
# (192 channels, 4 layers, 3 heads, MLP ratio 2, 8x8 patches on 64x32
# frames: 8x4 patch tokens after the class token), trained from scratch.
# No other key is set: CoupledBackbone drops timm's prefix tokens from the
# patch tokens and takes the class token as the global feature, and the
# widths of CCA, HTA and the head are taken from the backbones.
#   bash tools/run_demo.sh \
#       projects/dcct_on_other_backbones/configs/dcct_r18-timm-vit_demo.py
_base_ = ['../../../configs/dcct/dcct_demo.py']

model = dict(
    backbone=dict(
        transformer=dict(
            _delete_=True,
            type='mmpretrain.TIMMBackbone',
            model_name='vit_tiny_patch16_224',
            pretrained=False,
            img_size=(64, 32),  # (h, w) of the demo frames
            patch_size=8,
            depth=4,
            mlp_ratio=2.0,
            drop_path_rate=0.1)))

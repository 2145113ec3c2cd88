# DCCT with a timm transformer: ResNet-50 (CNN branch, as the paper) + timm's
# ViT-S/16 (AugReg, ImageNet-21k pre-trained, fine-tuned on ImageNet-1k)
# through mmpretrain's TIMMBackbone, with the unchanged CCA / HTA necks and
# SelfDistillationHead of configs/_base_/models/dcct_r50-vit-b.py; the
# paper's SGD recipe on MARS.
#   bash tools/dist_train.sh THIS_CONFIG 2   (see ../README.md)
# Widths (found when the model is built): ResNet-50 2048 channels on a 16x8
# map (last stride 1); ViT-S 384 channels, class token + 16x8 patch tokens.
# CoupledBackbone separates timm's prefix tokens (num_prefix_tokens: class,
# distillation, register tokens) from the patch tokens.
# Weights: timm downloads them from the Hugging Face Hub when the model is
# built (pretrained=True) and resizes the 14x14 position embedding to 16x8.
# Offline: pre-place the file and add
#   pretrained_cfg_overlay=dict(file='/path/to/model.safetensors')
# to the transformer config; pretrained=False trains it from scratch.
_base_ = [
    '../../../configs/_base_/models/dcct_r50-vit-b.py',
    '../../../configs/_base_/datasets/mars.py',
    '../../../configs/_base_/schedules/sgd_50e.py',
    '../../../configs/_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        transformer=dict(
            _delete_=True,
            type='mmpretrain.TIMMBackbone',
            model_name='vit_small_patch16_224.augreg_in21k_ft_in1k',
            pretrained=True,
            img_size=(256, 128),  # (h, w) of the frames
            drop_path_rate=0.1)))

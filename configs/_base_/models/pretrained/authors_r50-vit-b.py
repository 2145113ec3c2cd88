# Starting weights of the ResNet-50 + ViT-B/16 pair: the DCCT authors' (their
# public code). The default: ../coupled_r50-vit-b.py takes its backbones'
# `init_cfg` from this file (its first `_base_`). For mmpretrain's ImageNet
# pair instead, point that `_base_` at ./mmpretrain_r50-vit-b.py.
# - ResNet-50: torchvision's ImageNet-1k file. torchvision's key names are
#   mmpretrain's ResNet names; its 1000-way `fc` has no counterpart and is
#   reported once ("unexpected key in source state_dict: fc.weight, fc.bias").
# - ViT-B/16: the original ImageNet-21k pre-trained, ImageNet-1k fine-tuned
#   224 px model, in timm's key names (timm: vit_base_patch16_224.orig_in21k_
#   ft_in1k). The `timm-vit://` prefix (mmdcct.models.utils.timm_vit_converter)
#   renames its tensors to mmpretrain's at load time and drops its classifier;
#   VisionTransformer then resizes the 14x14 position grid to the 16x8 grid of
#   256x128 frames bilinearly (align_corners=False, class token kept), as the
#   authors do. It was trained on frames scaled to [-1, 1]; like the authors,
#   both branches get ImageNet-normalised frames.
model = dict(
    backbone=dict(
        cnn=dict(
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.pytorch.org/models/'
                'resnet50-19c8e357.pth')),
        transformer=dict(
            interpolate_mode='bilinear',
            init_cfg=dict(
                type='Pretrained',
                checkpoint='timm-vit://https://github.com/rwightman/'
                'pytorch-image-models/releases/download/v0.1-vitjx/'
                'jx_vit_base_p16_224-80ecf9dd.pth'))))

# configs/dcct/dcct_demo.py with ONLY the CNN branch changed: mmpretrain's
# MobileNetV2 (its default last stage, 1280 channels at stride 32: 2x1
# positions on the 64x32 demo frames) in place of ResNet-18. No other key is
# set: the widths of CCA, HTA and the head are taken from the backbones.
#   bash tools/run_demo.sh \
#       projects/dcct_on_other_backbones/configs/dcct_mbv2-vit_demo.py
_base_ = ['../../../configs/dcct/dcct_demo.py']

model = dict(
    backbone=dict(cnn=dict(_delete_=True, type='mmpretrain.MobileNetV2')))

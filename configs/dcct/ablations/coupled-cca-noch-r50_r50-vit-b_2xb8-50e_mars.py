# Tab. VI "- CH", ResNet-50 column: "+ CCA" (coupled-cca_*) with the cross-
# attention head removed from the ResNet-50 branch's CCA only (the self head
# left there maps its values to the full width C; the other branch keeps
# both heads). Tab. VI evaluates the ResNet-50 branch's CCA feature alone:
# test feature 'spatial', branch 'cnn'.
# Paper: 82.7 mAP / 90.3 R1.
_base_ = ['./coupled-cca_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    spatial_neck=dict(self_head=True, cross_head=(False, True)),
    test_cfg=dict(feature='spatial', branch='cnn'))

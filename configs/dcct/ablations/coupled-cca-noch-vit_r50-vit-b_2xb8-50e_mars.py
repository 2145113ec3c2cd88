# Tab. VI "- CH", ViT-B column: "+ CCA" (coupled-cca_*) with the cross-
# attention head removed from the ViT-B branch's CCA only (the self head
# left there maps its values to the full width C; the other branch keeps
# both heads). Tab. VI evaluates the ViT-B branch's CCA feature alone:
# test feature 'spatial', branch 'transformer'.
# Paper: 83.8 mAP / 90.7 R1.
_base_ = ['./coupled-cca_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    spatial_neck=dict(self_head=True, cross_head=(True, False)),
    test_cfg=dict(feature='spatial', branch='transformer'))

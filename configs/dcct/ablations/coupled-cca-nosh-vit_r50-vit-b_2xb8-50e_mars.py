# Tab. VI "- SH", ViT-B column: "+ CCA" (coupled-cca_*) with the self-
# attention head removed from the ViT-B branch's CCA only (the cross head
# left there maps its values to the full width C; the other branch keeps
# both heads). Tab. VI evaluates the ViT-B branch's CCA feature alone:
# test feature 'spatial', branch 'transformer'.
# Paper: 84.1 mAP / 91.0 R1.
_base_ = ['./coupled-cca_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    spatial_neck=dict(self_head=(True, False), cross_head=True),
    test_cfg=dict(feature='spatial', branch='transformer'))

# Tab. VI "- CH": "+ CCA" (coupled-cca_*) with the cross-attention heads
# removed (no interaction between the branches left in CCA); the self heads'
# value projections map to the full width C. See coupled-cca-nosh_* for the
# per-branch evaluation of Tab. VI.
# Paper: ResNet-50 82.7 mAP / 90.3 R1, ViT-B 83.8 / 90.7.
_base_ = ['./coupled-cca_r50-vit-b_2xb8-50e_mars.py']

model = dict(spatial_neck=dict(self_head=True, cross_head=False))

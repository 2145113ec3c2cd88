# Tab. VI "- SH": "+ CCA" (coupled-cca_*) with the self-attention heads
# removed; the cross-attention heads' value projections then map to the full
# width C of their branch. Tab. VI reports each branch's CCA feature on its
# own: test with model.test_cfg.feature='spatial' - its first 2048 channels
# are the ResNet-50 branch, the last 768 the ViT-B branch.
# Paper: ResNet-50 83.2 mAP / 90.5 R1, ViT-B 84.1 / 91.0.
_base_ = ['./coupled-cca_r50-vit-b_2xb8-50e_mars.py']

model = dict(spatial_neck=dict(self_head=False, cross_head=True))

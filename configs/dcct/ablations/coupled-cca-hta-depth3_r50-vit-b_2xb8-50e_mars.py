# Fig. 5, HTA depth 3: "+ HTA" (coupled-cca-hta_*, no self-distillation)
# with 3 HTA layers. Layer 1 uses MLP ratio 4, the later layers 0.25
# (the authors' code); gated attention acts from layer 2 on.
_base_ = ['./coupled-cca-hta_r50-vit-b_2xb8-50e_mars.py']

model = dict(temporal_neck=dict(depth=3))

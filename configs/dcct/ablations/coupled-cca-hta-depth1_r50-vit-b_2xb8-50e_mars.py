# Fig. 5, HTA depth 1: "+ HTA" (coupled-cca-hta_*, no self-distillation)
# with one HTA layer (MLP ratio 4). Gated attention only exists from layer 2
# on, so depth 1 is TT + AT.
_base_ = ['./coupled-cca-hta_r50-vit-b_2xb8-50e_mars.py']

model = dict(temporal_neck=dict(depth=1))

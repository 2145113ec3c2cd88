# Tab. VII "+ HTA (one depth)", row TT + AT + GA: one HTA layer whose
# branches are first gated (GA) with v_0 = mean_T([x_c, x_t]) of the aligned
# CCA features - one layer has no previous layer's video feature, so the
# time-averaged input of both branches stands in for it
# (first_layer_gate=True) - then TT_c, TT_t and AT. Two-stage supervision,
# no self-distillation.
# Paper: 86.8 mAP / 91.8 R1.
_base_ = ['./coupled-cca-hta_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    temporal_neck=dict(
        depth=1,
        temporal_transformer=True,
        aggregate_transformer=True,
        gated_attention=True,
        first_layer_gate=True))

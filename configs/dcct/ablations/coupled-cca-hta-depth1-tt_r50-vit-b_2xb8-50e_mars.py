# Tab. VII "+ HTA (one depth)", row TT: "+ CCA" followed by one HTA layer
# with the per-branch temporal transformers only (no aggregating
# transformer, no gated attention): f = mean_T([TT_c(x_c), TT_t(x_t)]).
# Two-stage supervision, no self-distillation (as every Tab. VII row).
# Paper: 85.9 mAP / 91.5 R1.
_base_ = ['./coupled-cca-hta_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    temporal_neck=dict(
        depth=1,
        temporal_transformer=True,
        aggregate_transformer=False,
        gated_attention=False))

# Tab. VII "+ HTA (one depth)", row TT + AT: one HTA layer, the temporal
# transformers and the aggregating transformer, no gated attention:
# f = mean_T(AT([TT_c(x_c), TT_t(x_t)])). Also Fig. 5 at depth 1 (the paper
# uses gated attention from depth 2 on). Two-stage supervision, no self-
# distillation.
# Paper: 86.5 mAP / 91.6 R1.
_base_ = ['./coupled-cca-hta_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    temporal_neck=dict(
        depth=1,
        temporal_transformer=True,
        aggregate_transformer=True,
        gated_attention=False))

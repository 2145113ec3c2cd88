# Tab. VII "TT": HTA with the per-branch temporal transformers only (no
# aggregating transformer, no gated attention): each layer's video feature
# is mean_T([TT_c(x_c), TT_t(x_t)]). Two layers, as the other Tab. VII rows,
# so that only the modules differ; no self-distillation (as "+ HTA").
# Paper: 85.9 mAP / 91.5 R1.
_base_ = ['./coupled-cca-hta_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    temporal_neck=dict(
        temporal_transformer=True,
        aggregate_transformer=False,
        gated_attention=False))

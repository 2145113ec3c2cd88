# Tab. VII "TT + AT": HTA with the temporal and the aggregating transformers
# but no gated attention (layer 2 does not receive layer 1's video feature).
# The full "TT + AT + GA" row is coupled-cca-hta_*.
# Paper: 86.5 mAP / 91.6 R1.
_base_ = ['./coupled-cca-hta_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    temporal_neck=dict(
        temporal_transformer=True,
        aggregate_transformer=True,
        gated_attention=False))

# Tab. VIII "SAP + HTA": spatial attention pooling (per branch, no
# cross-branch query) in place of CCA, followed by the two-layer HTA; two-
# stage supervision, no self-distillation (as the CCA + HTA row, "+ HTA").
# Paper: 86.3 mAP / 91.6 R1.
_base_ = ['./coupled-cca-hta_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    spatial_neck=dict(
        _delete_=True,
        type='SpatialAttentionPooling',
        in_channels=(2048, 768),
        reduction=16))

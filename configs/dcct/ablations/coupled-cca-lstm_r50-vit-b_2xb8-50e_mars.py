# Tab. VIII "CCA + LSTM": CCA followed by one LSTM per branch (aligned to
# D=512, temporal average of the LSTM outputs, concatenated to 2D=1024 like
# HTA's f) in place of HTA; two-stage supervision, no self-distillation.
# Paper: 85.8 mAP / 91.4 R1.
_base_ = ['./coupled-cca-hta_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    temporal_neck=dict(
        _delete_=True,
        type='LSTMTemporalAggregation',
        in_channels=(2048, 768),
        embed_dims=512,
        num_layers=1,
        temporal_pool='avg',
        detach_input=True,
        num_frames=8))

# Tab. V "+ HTA": CCA + a two-layer HTA (TT + AT, then GA + TT + AT), with
# the two-stage supervision (backbone + final) but without self-distillation
# (Tab. V adds it in the next row, "+ KD" = dcct_r50-vit-b_2xb8-50e_mars.py).
# The same model is depth 2 of Fig. 5, the CCA + HTA row of Tab. VIII and
# the no-distillation bars of Fig. 6 (test those with
# --cfg-options model.test_cfg.feature=base+final).
# Paper: 87.2 mAP / 92.1 R1, 13.15 GFLOPs, 222.61 M params.
_base_ = ['../dcct_r50-vit-b_2xb8-50e_mars.py']

model = dict(head=dict(loss_ld=None, loss_fd=None))

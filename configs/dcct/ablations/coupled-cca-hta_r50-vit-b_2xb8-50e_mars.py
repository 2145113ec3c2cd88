# Tab. V "+ HTA": CCA + a two-layer HTA (TT + AT, then GA + TT + AT), with
# the two-stage supervision (backbone + final) but without self-distillation
# (Tab. V adds it in the next row, "+ KD" = dcct_r50-vit-b_2xb8-50e_mars.py).
# The same model is the TT+AT+GA row of Tab. VII, depth 2 of Fig. 5, the
# CCA+HTA row of Tab. VIII and the no-distillation bar of Fig. 6.
# Paper: 87.2 mAP / 92.1 R1, 13.15 GFLOPs, 222.61 M params.
_base_ = ['../dcct_r50-vit-b_2xb8-50e_mars.py']

model = dict(head=dict(loss_ld=None, loss_fd=None))

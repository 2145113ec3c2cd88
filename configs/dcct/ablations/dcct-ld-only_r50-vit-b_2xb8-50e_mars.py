# Fig. 6 "LD": full DCCT with logistic distillation only (no feature
# distillation), tested as Fig. 6 does with the base + final features
# (BN-neck f). The figure also shows each backbone's base feature alone:
# --cfg-options model.test_cfg.feature=base model.test_cfg.branch=cnn (or
# branch=transformer).
_base_ = ['../dcct_r50-vit-b_2xb8-50e_mars.py']

model = dict(head=dict(loss_fd=None), test_cfg=dict(feature='base+final'))

# Fig. 6 "FD": full DCCT with feature distillation only (no logistic
# distillation), tested as Fig. 6 does with the base + final features
# (BN-neck f). The figure also shows each backbone's base feature alone:
# --cfg-options model.test_cfg.feature=base model.test_cfg.branch=cnn (or
# branch=transformer). LD + FD is dcct_r50-vit-b_2xb8-50e_mars.py, neither
# is coupled-cca-hta_*.
_base_ = ['../dcct_r50-vit-b_2xb8-50e_mars.py']

model = dict(head=dict(loss_ld=None), test_cfg=dict(feature='base+final'))

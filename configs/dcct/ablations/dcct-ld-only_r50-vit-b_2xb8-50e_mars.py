# Fig. 6 "LD": full DCCT with logistic distillation only (no feature
# distillation). Fig. 6 also evaluates the backbone features alone after
# distillation: test with --cfg-options model.test_cfg.feature=base.
_base_ = ['../dcct_r50-vit-b_2xb8-50e_mars.py']

model = dict(head=dict(loss_fd=None))

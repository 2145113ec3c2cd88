# Fig. 6 "FD": full DCCT with feature distillation only (no logistic
# distillation). LD + FD is the main config dcct_r50-vit-b_2xb8-50e_mars.py,
# neither is coupled-cca-hta_*.
_base_ = ['../dcct_r50-vit-b_2xb8-50e_mars.py']

model = dict(head=dict(loss_ld=None))

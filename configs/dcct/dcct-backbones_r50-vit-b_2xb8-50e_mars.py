# The deployable DCCT (the paper's efficiency claim): after self-distillation
# the backbones alone give the test feature, so CCA, HTA and the head are
# dropped. Test feature 'base': concat of the time-averaged global features
# of ResNet-50 and ViT-B/16 (2048 + 768 = 2816 channels). Strip a trained
# checkpoint first, then test it (the checkpoint provides every weight, so
# the backbones' pretrained init_cfg is off and nothing is downloaded):
#   python tools/model_converters/strip_to_backbones.py \
#       work_dirs/dcct_r50-vit-b_2xb8-50e_mars/epoch_50.pth dcct_mars_bb.pth
#   python tools/test.py \
#       configs/dcct/dcct-backbones_r50-vit-b_2xb8-50e_mars.py dcct_mars_bb.pth
# Inference only: this config cannot train (no head, no losses).
_base_ = ['./dcct_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    backbone=dict(
        cnn=dict(init_cfg=None),
        transformer=dict(init_cfg=None)),
    spatial_neck=None,
    temporal_neck=None,
    head=None,
    test_cfg=dict(feature='base'))

# No training: MMEngine's Runner needs train_dataloader, train_cfg and
# optim_wrapper all set or all None (and param_scheduler None without an
# optimizer); tools/test.py runs only the test loop.
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
auto_scale_lr = None

# dcct_demo.py stripped to its backbones (ResNet-18 + the 4-layer ViT, test
# feature 'base': 512 + 192 channels); the demo counterpart of
# dcct-backbones_r50-vit-b_2xb8-50e_mars.py. Inference only:
#   python tools/model_converters/strip_to_backbones.py \
#       work_dirs/dcct_demo/epoch_30.pth work_dirs/dcct_demo_bb.pth
#   python tools/test.py configs/dcct/dcct_demo_backbones.py \
#       work_dirs/dcct_demo_bb.pth
_base_ = ['./dcct_demo.py']

model = dict(
    spatial_neck=None,
    temporal_neck=None,
    head=None,
    test_cfg=dict(feature='base'))

train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None

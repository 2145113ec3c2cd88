# Tab. IV / Tab. V "ResNet-50": the CNN branch alone (last stride 1), video
# feature TAP(GAP(Fc)) through a BN-neck; the paper's SGD recipe on MARS.
# Paper: 82.4 mAP / 89.9 R1, 3.26 GFLOPs, 22.42 M params.
_base_ = [
    '../../_base_/models/coupled_r50_vit-b.py',
    '../../_base_/datasets/mars.py',
    '../../_base_/schedules/sgd_50e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    # SingleBackbone has the CoupledBackbone contract for one branch, so the
    # same VideoReID / VideoReIDHead run (one BN-neck instead of two).
    backbone=dict(
        _delete_=True,
        type='SingleBackbone',
        backbone=dict(
            type='mmpretrain.ResNet',
            depth=50,
            strides=(1, 2, 2, 1),
            out_indices=(3, ),
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
                prefix='backbone.')),
        global_type='avg'),
    head=dict(in_channels=(2048, ), num_classes=625))

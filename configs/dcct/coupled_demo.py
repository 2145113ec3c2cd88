# The Coupled baseline at demo scale: ResNet-18 + a 4-layer ViT (8x8
# patches) on 64x32 frames, 4 frames per tracklet, of the synthetic
# MARS-layout data in data/demo/MARS, trained from scratch on CPU in about
# five minutes. Generate the data first:
#   python tools/misc/make_synthetic_mars.py data/demo/MARS
_base_ = [
    '../_base_/models/coupled_r50-vit-b.py',
    '../_base_/datasets/mars.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/demo/MARS'
num_frames = 4
img_scale = (32, 64)  # (w, h)

model = dict(
    backbone=dict(
        cnn=dict(
            _delete_=True,
            type='mmpretrain.ResNet',
            depth=18,
            strides=(1, 2, 2, 1),
            out_indices=(3, )),
        transformer=dict(
            _delete_=True,
            type='mmpretrain.VisionTransformer',
            arch=dict(
                embed_dims=192,
                num_layers=4,
                num_heads=3,
                feedforward_channels=384),
            img_size=(img_scale[1], img_scale[0]),
            patch_size=8,
            drop_path_rate=0.1,
            out_type='raw')),
    # in_channels (512, 192) are taken from the backbones
    head=dict(num_classes=60),  # demo train ids
    # Trained from scratch, the raw backbone features are dominated by a few
    # high-variance channels; the BN-neck features fix that. 'all' (base +
    # BN-neck features) is also what the DCCT authors report.
    test_cfg=dict(feature='all'))

train_pipeline = [
    dict(type='RestrictedRandomSampling', num_frames=num_frames,
         mode='random'),
    dict(type='LoadTrackletFrames'),
    dict(
        type='TrackletBroadcaster',
        transforms=[
            dict(type='mmcv.Resize', scale=img_scale, keep_ratio=False,
                 interpolation='bicubic'),
            dict(type='mmpretrain.RandomCrop',
                 crop_size=(img_scale[1], img_scale[0]), padding=3),
            dict(type='mmcv.RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='TrackletRandomErasing', erase_prob=0.5,
                 min_area_ratio=0.02, max_area_ratio=0.4,
                 aspect_range=(0.3, 3.3), mode='const',
                 fill_color=(124, 116, 104)),
        ]),
    dict(type='PackVideoReIDInputs'),
]
test_pipeline = [
    dict(type='RestrictedRandomSampling', num_frames=num_frames,
         mode='begin'),
    dict(type='LoadTrackletFrames'),
    dict(
        type='TrackletBroadcaster',
        transforms=[
            dict(type='mmcv.Resize', scale=img_scale, keep_ratio=False,
                 interpolation='bicubic'),
        ]),
    dict(type='PackVideoReIDInputs'),
]

train_dataloader = dict(
    batch_size=16,  # 4 identities x 4 tracklets
    num_workers=2,
    sampler=dict(type='IdentityBalancedSampler', num_instances=4),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[24], gamma=0.1),
]
train_cfg = dict(
    type='mmdcct.ResumableEpochBasedTrainLoop', max_epochs=30,
    val_interval=10)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=10, max_keep_ckpts=2))

randomness = dict(seed=0, deterministic=False)

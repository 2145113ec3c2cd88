# MARS (Zheng et al., ECCV 2016). `data_root` holds bbox_train/, bbox_test/
# and info/ exactly as the official release unpacks them.
dataset_type = 'MARS'
data_root = 'data/mars'
num_frames = 8  # T frames per tracklet (restricted random sampling)
img_scale = (128, 256)  # (w, h)

data_preprocessor = dict(
    type='VideoReIDDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375])

# The paper's augmentation: resize 256x128 (bicubic), pad 10 + random crop,
# flip 0.5, random erasing 0.5 - one random draw for all frames of a tracklet.
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
                 crop_size=(img_scale[1], img_scale[0]), padding=10),
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

# Dense test (every frame, clips of T averaged by the model; tracklets of a
# batch may have different clip counts, the model caps clips per forward
# with model.test_cfg.max_clips_per_forward), e.g.
# --cfg-options test_dataloader.dataset.pipeline.0.mode=dense

# P=8 identities x K=2 tracklets = 16 tracklets per step, as in the paper
# (on 2 GPUs: 8 per GPU = 4 ids x 2 tracklets each).
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    sampler=dict(type='IdentityBalancedSampler', num_instances=2),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    drop_last=True,
)

# query + gallery in one pass; each tracklet is embedded once and the metric
# splits them by the `is_query` / `is_gallery` flags. Whether the query
# tracklets are also gallery entries is the dataset class's own protocol
# (`gallery_includes_query` unset = None: True for MARS, as the literature
# requires, False for the other datasets), so changing only the dataset
# `type` (e.g. with --cfg-options) also changes the protocol. Setting it
# explicitly overrides the protocol, with a warning.
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline),
)
val_evaluator = dict(type='VideoReIDMetric', distance='cosine')

test_dataloader = val_dataloader
test_evaluator = val_evaluator

# Flip + random erasing can run on the model's device instead (one draw
# per tracklet, on the stacked batch, by the data preprocessor's
# TrackletBatchFlip / TrackletBatchRandomErasing): see
# configs/dcct/dcct_demo_batch-aug.py, which also drops them from the train
# pipeline so tracklets are not augmented twice.

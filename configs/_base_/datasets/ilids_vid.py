# iLIDS-VID (Wang et al., ECCV 2014). `data_root` holds i-LIDS-VID/sequences/
# cam{1,2}/personNNN/*.png and "train-test people splits/
# train_test_splits_ilidsvid.mat" (generated reproducibly, with a warning,
# when missing). 300 persons, 10 random splits of 150 train / 150 test;
# query = cam1, gallery = cam2; report the mean over the splits. The paper's
# recipe (same as MARS): RRS with T = 8, 256x128 bicubic, pad 10 + crop,
# flip, random erasing (one draw per tracklet), 8 ids x 2 tracklets (= the
# two cameras of each id), cosine distance.
dataset_type = 'iLIDSVID'
data_root = 'data/ilids-vid'
num_frames = 8  # T frames per tracklet (restricted random sampling)
# One of the 10 random splits (0..9); evaluate all of them with
#   tools/analysis_tools/eval_splits.py CONFIG 'work_dirs/x_split{split}/...'
# which sets `split_id` of the datasets below through config options.
split_id = 0
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
            dict(type='mmpretrain.RandomErasing', erase_prob=0.5,
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
        split_id=split_id,
        pipeline=train_pipeline),
    drop_last=True,
)

# query (cam1) + gallery (cam2) of the test persons in one pass.
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        split_id=split_id,
        pipeline=test_pipeline),
)
val_evaluator = dict(type='VideoReIDMetric', distance='cosine')

test_dataloader = val_dataloader
test_evaluator = val_evaluator

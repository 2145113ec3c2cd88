# dcct_demo.py with flip + random erasing moved from the dataloader workers
# (per frame, CPU) to the data preprocessor (per batch, on the model's
# device): same augmentation, one random draw per tracklet shared by its
# frames, applied to the 0-255 batch before normalisation. The train
# pipeline only samples, loads, resizes and crops.
#   bash tools/run_demo.sh configs/dcct/dcct_demo_batch-aug.py
_base_ = ['./dcct_demo.py']

num_frames = 4
img_scale = (32, 64)  # (w, h)

model = dict(
    data_preprocessor=dict(batch_augments=[
        dict(type='TrackletBatchFlip', prob=0.5, direction='horizontal'),
        dict(
            type='TrackletBatchRandomErasing',
            erase_prob=0.5,
            min_area_ratio=0.02,
            max_area_ratio=0.4,
            aspect_range=(0.3, 3.3),
            mode='const',
            fill_color=(124, 116, 104)),
    ]))

# coupled_demo.py's train pipeline without RandomFlip / RandomErasing (the
# lists of a _base_ config are replaced, not merged, so it is restated).
train_pipeline = [
    dict(
        type='RestrictedRandomSampling', num_frames=num_frames, mode='random'),
    dict(type='LoadTrackletFrames'),
    dict(
        type='TrackletBroadcaster',
        transforms=[
            dict(
                type='mmcv.Resize',
                scale=img_scale,
                keep_ratio=False,
                interpolation='bicubic'),
            dict(
                type='mmpretrain.RandomCrop',
                crop_size=(img_scale[1], img_scale[0]),
                padding=3),
        ]),
    dict(type='PackVideoReIDInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

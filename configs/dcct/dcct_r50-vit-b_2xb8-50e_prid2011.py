# DCCT on PRID-2011: 89 training identities per split (the standard split
# file: 178 of the first 200 persons, 10 splits of 89 train / 89 test; query
# = cam_a, gallery = cam_b). The paper reports the mean over the 10 splits
# (R1 96.8, R5 99.7): train once per split - `split_id` 0..9 of the
# datasets, e.g. --cfg-options train_dataloader.dataset.split_id=3
# val_dataloader.dataset.split_id=3 test_dataloader.dataset.split_id=3 -
# and average with tools/analysis_tools/eval_splits.py (see
# configs/_base_/datasets/prid2011.py). Same model and SGD recipe as on
# MARS.
_base_ = [
    '../_base_/models/dcct_r50-vit-b.py',
    '../_base_/datasets/prid2011.py',
    '../_base_/schedules/sgd_50e.py',
    '../_base_/default_runtime.py',
]

# T=8 frames per tracklet: must equal the dataset pipeline's num_frames.
model = dict(
    temporal_neck=dict(num_frames=8),
    head=dict(num_classes=89))

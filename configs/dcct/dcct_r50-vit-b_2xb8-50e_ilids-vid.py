# DCCT on iLIDS-VID: 150 training identities per split (10 random 150/150
# splits; query = cam1, gallery = cam2). The paper reports the mean over the
# 10 splits (R1 91.7, R5 98.6): train once per split - `split_id` 0..9 of
# the datasets, e.g. --cfg-options train_dataloader.dataset.split_id=3
# val_dataloader.dataset.split_id=3 test_dataloader.dataset.split_id=3 -
# and average with tools/analysis_tools/eval_splits.py (see
# configs/_base_/datasets/ilids_vid.py). Same model and SGD recipe as on
# MARS.
_base_ = [
    '../_base_/models/dcct_r50-vit-b.py',
    '../_base_/datasets/ilids_vid.py',
    '../_base_/schedules/sgd_50e.py',
    '../_base_/default_runtime.py',
]

# T=8 frames per tracklet: must equal the dataset pipeline's num_frames.
model = dict(
    temporal_neck=dict(num_frames=8),
    head=dict(num_classes=150))

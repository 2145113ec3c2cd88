# DCCT on LS-VID (842 training identities, 2,831 tracklets), with the
# paper's SGD recipe and model unchanged from MARS (2 GPUs x 8 tracklets,
# 50 epochs). The DCCT paper reports no LS-VID result.
_base_ = [
    '../_base_/models/dcct_r50-vit-b.py',
    '../_base_/datasets/ls_vid.py',
    '../_base_/schedules/sgd_50e.py',
    '../_base_/default_runtime.py',
]

# T=8 frames per tracklet: must equal the dataset pipeline's num_frames.
model = dict(
    temporal_neck=dict(num_frames=8),
    head=dict(num_classes=842))

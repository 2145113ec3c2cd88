# The DCCT authors' code recipe: Adam lr 3.5e-4, weight decay 5e-4 on every
# parameter, linear warm-up from 0.01x over 10 epochs, lr x 0.3 at epochs
# 70/140/210/280/350, 400 epochs, batch 32 = 8 ids x 4 tracklets.
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        by_epoch=True,
        milestones=[70, 140, 210, 280, 350],
        gamma=0.3),
]

# epoch-based; resumes exactly in the middle of an epoch (see
# configs/_base_/default_runtime.py). A config's own `type` wins.
train_cfg = dict(
    type='mmdcct.ResumableEpochBasedTrainLoop', max_epochs=400,
    val_interval=50)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=32)

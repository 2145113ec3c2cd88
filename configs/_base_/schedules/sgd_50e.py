# The paper's recipe (DCCT §IV-B): SGD with Nesterov momentum 0.9, lr 0.01,
# weight decay 5e-4, lr x 0.1 every 15 epochs, 50 epochs, 16 tracklets/batch
# on 2 GPUs (8 per GPU).
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4))

param_scheduler = dict(type='StepLR', by_epoch=True, step_size=15, gamma=0.1)

# epoch-based; resumes exactly in the middle of an epoch (see
# configs/_base_/default_runtime.py). A config's own `type` wins.
train_cfg = dict(
    type='mmdcct.ResumableEpochBasedTrainLoop', max_epochs=50,
    val_interval=10)
val_cfg = dict()
test_cfg = dict()

# The lr above is for 2 GPUs x 8 tracklets; `--auto-scale-lr` rescales it.
auto_scale_lr = dict(base_batch_size=16)

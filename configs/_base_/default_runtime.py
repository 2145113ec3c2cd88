# defaults to use registries in mmdcct
default_scope = 'mmdcct'

# configure default hooks
default_hooks = dict(
    # record the time of every iteration.
    timer=dict(type='IterTimerHook'),
    # print log every 50 iterations.
    logger=dict(type='LoggerHook', interval=50),
    # enable the parameter scheduler.
    param_scheduler=dict(type='ParamSchedulerHook'),
    # save a checkpoint every epoch, keep the best by mAP. Written through a
    # temp file + os.replace (the 'atomic_local' file backend, the hook's
    # default backend_args for a local out_dir); `last_checkpoint` is updated
    # only afterwards and old checkpoints are pruned last, so a crash never
    # corrupts the latest. For mid-epoch checkpoints use by_epoch=False and
    # an iteration interval.
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3,
        save_best='mAP', rule='greater'),
    # set the sampler's epoch so that every epoch draws a new order.
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # rank-list pictures of the test set; `tools/test.py --show-dir` enables it
    visualization=dict(type='VideoReIDVisualizationHook', enable=False),
)

# fail fast if the classifier width differs from the training identities;
# stop at the first NaN/Inf loss term, before it can be checkpointed
custom_hooks = [
    dict(type='NumClassesCheckHook'),
    dict(type='CheckInvalidLossTermsHook'),
]

# configure environment
env_cfg = dict(
    # whether to enable cudnn benchmark
    cudnn_benchmark=False,
    # set multi process parameters
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # set distributed parameters. backend=None: the tools pick 'nccl' with
    # CUDA and 'gloo' without it (mmdcct.utils.setup_cpu_distributed); set
    # 'nccl' / 'gloo' / 'mpi' to force one.
    dist_cfg=dict(backend=None),
)

# set visualizer (add dict(type='TensorboardVisBackend') to plot to TB)
vis_backends = [dict(type='LocalVisBackend')]
# TensorBoard (pip install mmdcct[tensorboard]):
# vis_backends = [dict(type='LocalVisBackend'),
#                 dict(type='TensorboardVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

# set log level
log_level = 'INFO'

# load from which checkpoint
load_from = None

# whether to resume training from the loaded checkpoint
resume = False

# defaults to use random seed and disable `deterministic`. With a seed (and
# deterministic=True for cuDNN / torch.use_deterministic_algorithms), two CPU
# runs give bit-identical weights. DataLoader workers are seeded by MMEngine
# with seed + num_workers * rank + worker_id each time they start.
randomness = dict(seed=None, deterministic=False)

# Resume (`tools/train.py --resume [CKPT]`): the schedules
# (configs/_base_/schedules/*.py) train with
#   train_cfg = dict(type='mmdcct.ResumableEpochBasedTrainLoop', ...)
# (MMEngine forbids the same key in two bases, so train_cfg lives there and
# not here), which skips the batches a mid-epoch checkpoint already trained
# and restores the Python / numpy / torch RNG states stored by
# ResumeStateHook; with num_workers=0 the resumed run is bit-identical to an
# uninterrupted one (with workers, the augmentations of the rest of the
# resumed epoch differ). `train_cfg.type='EpochBasedTrainLoop'` keeps
# MMEngine's loop (which restarts a resumed epoch). The tools load
# checkpoints with torch.load(weights_only=True); trust a legacy file
# explicitly with MMDCCT_TRUSTED_CHECKPOINTS=/path/a.pth (see
# mmdcct.utils.checkpoint_safety).

# Multi-GPU BatchNorm: statistics are per GPU by default. Set
#   sync_bn = 'torch'
# (or `--cfg-options sync_bn=torch`) to convert every BatchNorm to
# torch.nn.SyncBatchNorm when training distributed (MMEngine Runner key; it
# needs CUDA + NCCL and is ignored in non-distributed runs).

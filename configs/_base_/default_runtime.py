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
    # save a checkpoint every epoch, keep the best by mAP.
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=3,
        save_best='mAP', rule='greater'),
    # set the sampler's epoch so that every epoch draws a new order.
    sampler_seed=dict(type='DistSamplerSeedHook'),
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
    # set distributed parameters; CPU-only jobs use backend='gloo'
    dist_cfg=dict(backend='nccl'),
)

# set visualizer (add dict(type='TensorboardVisBackend') to plot to TB)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

# set log level
log_level = 'INFO'

# load from which checkpoint
load_from = None

# whether to resume training from the loaded checkpoint
resume = False

# defaults to use random seed and disable `deterministic`
randomness = dict(seed=None, deterministic=False)

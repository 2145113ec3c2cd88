# DCCT (paper Sec. III-A to III-D): Coupled ResNet-50 + ViT-B/16, CCA on
# every frame, HTA (depth 2, D=512) over time, self-distillation (LD + FD)
# into the backbones.
_base_ = ['./coupled_r50-vit-b.py']

# No top-level `num_frames` here: the dataset base configs define one, and
# MMEngine refuses a key defined by two bases.
model = dict(
    # The input widths of the necks and the head (in_channels, *_channels)
    # are left unset: VideoReID takes them from the built backbones
    # (ResNet-50: 2048, ViT-B: 768; HTA's output 2D = 1024), so a config
    # that swaps a backbone needs no other change.
    spatial_neck=dict(
        type='ComplementaryContentAttention',
        self_head=True,
        cross_head=True,
        detach_cross_query=True),
    temporal_neck=dict(
        type='HierarchicalTemporalAggregation',
        embed_dims=512,
        depth=2,
        num_heads=8,
        mlp_ratios=(4.0, 0.25),
        num_frames=8,  # must equal the sampler's T (dataset config)
        temporal_transformer=True,
        aggregate_transformer=True,
        gated_attention=True,
        detach_input=True),
    head=dict(
        _delete_=True,
        type='SelfDistillationHead',
        num_classes=625,
        loss_ce=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
        # Mine triplets over the batches of all ranks, as the authors'
        # nn.DataParallel does: 2 GPUs x 8 tracklets mine like one batch of
        # 16 (the gradient DDP applies is that of the global batch). The
        # same as off in one process.
        loss_triplet=dict(
            type='TripletLoss', margin=0.3, distance='cosine',
            loss_weight=1.0, gather_across_ranks=True),
        loss_ld=dict(type='LogitDistillationLoss', tau=0.3, loss_weight=0.1),
        loss_fd=dict(
            type='FeatureDistillationLoss', mode='l2', loss_weight=0.1),
        # as in the authors' public code, the BN-neck shift is frozen on
        # the ViT base feature only
        freeze_bias=dict(base=(False, True), spatial=False, final=False)),
    test_cfg=dict(feature='all'))

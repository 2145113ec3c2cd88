# DCCT (spec §1-§5): Coupled ResNet-50 + ViT-B/16, CCA on every frame, HTA
# (depth 2, D=512) over time, self-distillation (LD + FD) into the backbones.
_base_ = ['./coupled_r50_vit-b.py']

# No top-level `num_frames` here: the dataset base configs define one, and
# MMEngine refuses a key defined by two bases.
model = dict(
    spatial_neck=dict(
        type='ComplementaryContentAttention',
        in_channels=(2048, 768),
        self_head=True,
        cross_head=True,
        detach_cross_query=True),
    temporal_neck=dict(
        type='HierarchicalTemporalAggregation',
        in_channels=(2048, 768),
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
        frame_channels=(2048, 768),
        spatial_channels=(2048, 768),
        video_channels=1024,
        loss_ce=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
        loss_triplet=dict(
            type='TripletLoss', margin=0.3, distance='cosine',
            loss_weight=1.0),
        loss_ld=dict(weight=0.1, tau=0.3),
        loss_fd=dict(weight=0.1, mode='l2'),
        # spec §4: the BN-neck shift is frozen on the ViT base feature only
        freeze_bias=dict(frame=(False, True), spatial=False, video=False)),
    test_cfg=dict(feature='all'))

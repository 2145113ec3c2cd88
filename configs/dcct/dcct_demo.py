# Full DCCT (CCA + HTA + two-stage supervision + self-distillation) at demo
# scale: the tiny branches of coupled_demo.py (ResNet-18 + a 4-layer ViT with
# 8x8 patches on 64x32 frames, 4 frames per tracklet) on the synthetic
# MARS-layout data in data/demo/MARS, trained from scratch on CPU in about
# the time of coupled_demo.py (CCA and HTA are small next to the backbones
# at these widths). Generate the data first and run it with
#   bash tools/run_demo.sh configs/dcct/dcct_demo.py
_base_ = ['./coupled_demo.py']

model = dict(
    # One CCA branch per backbone (ResNet-18: 512 ch over 4x2 positions;
    # the ViT: 192 ch over 8x4 patch tokens). The input widths of the necks
    # and the head are not set: they are taken from the built backbones.
    spatial_neck=dict(
        type='ComplementaryContentAttention',
        self_head=True,
        cross_head=True,
        detach_cross_query=True),
    # HTA with the paper's structure (depth 2: TT + AT, then GA + TT + AT)
    # but narrow: D=128 (video feature 2D=256) and 4 heads. num_frames must
    # equal the demo sampler's T=4 (its temporal position embeddings).
    temporal_neck=dict(
        type='HierarchicalTemporalAggregation',
        embed_dims=128,
        depth=2,
        num_heads=4,
        mlp_ratios=(4.0, 0.25),
        num_frames=4,
        detach_input=True),
    # The coupled demo's BNNeckHead is replaced by the DCCT head: frame-
    # level (backbone) supervision, video-level supervision of TAP(CCA) and
    # f, LD + FD with the paper's weight 0.1.
    head=dict(
        _delete_=True,
        type='SelfDistillationHead',
        num_classes=60,  # demo train identities
        loss_ce=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
        # Mine over all ranks' batches (as the paper configs); the same as
        # off in the one-process demo run.
        loss_triplet=dict(
            type='TripletLoss', margin=0.3, distance='cosine',
            loss_weight=1.0, gather_across_ranks=True),
        loss_ld=dict(type='LogitDistillationLoss', tau=0.3, loss_weight=0.1),
        loss_fd=dict(
            type='FeatureDistillationLoss', mode='l2', loss_weight=0.1)),
    # base + TAP(CCA) + f, all but the base through their BN-necks.
    test_cfg=dict(feature='all'))

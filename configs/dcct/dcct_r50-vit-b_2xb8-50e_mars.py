# DCCT (Liu et al., TNNLS) on MARS with the paper's recipe (Sec. IV-B): coupled
# ResNet-50 (last stride 1) + ViT-B/16, CCA on every frame, HTA (depth 2,
# D=512) over the T=8 frames, two-stage supervision and self-distillation
# (LD + FD, weight 0.1). SGD (Nesterov, lr 0.01, x0.1 every 15 epochs), 50
# epochs, 2 GPUs x 8 tracklets (P=8 identities x K=2 tracklets in total).
#   bash tools/dist_train.sh configs/dcct/dcct_r50-vit-b_2xb8-50e_mars.py 2
# Test features: test_cfg.feature='all' (base + CCA + HTA BN-neck features,
# what the authors report); 'base' runs the backbones only (the efficient
# mode self-distillation enables), 'spatial' / 'final' one stage each.
_base_ = [
    '../_base_/models/dcct_r50-vit-b.py',
    '../_base_/datasets/mars.py',
    '../_base_/schedules/sgd_50e.py',
    '../_base_/default_runtime.py',
]

# MARS has 625 training identities. HTA's temporal position embeddings are
# built for the sampler's T (num_frames=8 in both base configs).
model = dict(
    temporal_neck=dict(num_frames=8),
    head=dict(num_classes=625))

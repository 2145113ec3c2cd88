# The paper's "Coupled" baseline (Tab. V): ResNet-50 + ViT-B/16, video
# feature concat(TAP(gc), TAP(gt)), trained with the paper's SGD recipe on
# MARS, 2 GPUs x 8 tracklets x 8 frames.
_base_ = [
    '../_base_/models/coupled_r50_vit-b.py',
    '../_base_/datasets/mars.py',
    '../_base_/schedules/sgd_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=625))  # MARS train identities

# Tab. V "+ CCA" (= Fig. 5 depth 0): the Coupled R50 + ViT-B baseline with
# CCA on every frame and no temporal aggregation beyond TAP. Supervision:
# backbone (frame-level) + TAP(CCA) per branch; no HTA, so there is no video
# feature f, no 'final' test feature, and no self-distillation (LD / FD need
# f as the teacher). The paper's SGD recipe on MARS.
# Paper: 85.5 mAP / 91.4 R1, 13.07 GFLOPs, 125.54 M params.
_base_ = ['../dcct_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    temporal_neck=None,
    head=dict(
        video_channels=None,
        video_loss=False,
        loss_ld=None,
        loss_fd=None),
    # base + BN-neck TAP(CCA) features ('final' does not exist here)
    test_cfg=dict(feature='all'))

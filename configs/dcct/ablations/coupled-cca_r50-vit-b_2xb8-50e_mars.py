# Tab. V "+ CCA" (also Fig. 5 depth 0, Tab. VII "Coupled + CCA", and Tab. VI
# "Backbone + CCA" tested per branch: --cfg-options
# model.test_cfg.feature=spatial model.test_cfg.branch=cnn / transformer):
# the Coupled R50 + ViT-B baseline with CCA on every frame and no temporal
# aggregation beyond TAP. Supervision:
# backbone (frame-level) + TAP(CCA) per branch; no HTA, so there is no video
# feature f, no 'final' test feature, and no self-distillation (LD / FD need
# f as the teacher). The paper's SGD recipe on MARS.
# Paper: 85.5 mAP / 91.4 R1, 13.07 GFLOPs, 125.54 M params.
_base_ = ['../dcct_r50-vit-b_2xb8-50e_mars.py']

model = dict(
    temporal_neck=None,
    head=dict(
        final_channels=None,
        final_loss=False,
        loss_ld=None,
        loss_fd=None),
    # base + BN-neck TAP(CCA) features ('final' does not exist here)
    test_cfg=dict(feature='all'))

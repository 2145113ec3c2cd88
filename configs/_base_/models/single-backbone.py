# One backbone alone (Tab. IV / V "ResNet-50", "ViT-Base", ...): the Coupled
# baseline (coupled_r50-vit-b.py: same data preprocessor, losses, per-frame
# supervision and starting weights) with SingleBackbone in place of
# CoupledBackbone.
# SingleBackbone returns the coupled backbone's (local, global) pair for one
# branch, so the same VideoReID and BNNeckHead (one BN-neck) run; test
# feature TAP(global). It wraps the Coupled baseline's CNN branch (ResNet-50,
# last stride 1) by default; a config for another backbone replaces
# `backbone.backbone` (with `_delete_=True`), `backbone.global_type` and the
# head's `in_channels` / `freeze_bias`.
_base_ = ['./coupled_r50-vit-b.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='SingleBackbone',
        backbone={{_base_.model.backbone.cnn}},
        global_type='avg'),
    # the BN shift is trained for a CNN and frozen for a transformer, as on
    # the branches of the coupled model
    head=dict(in_channels=(2048, ), freeze_bias=(False, )))

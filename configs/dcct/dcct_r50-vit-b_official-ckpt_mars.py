# DCCT on MARS with the module variants of the authors' public code, to test
# (or fine-tune from) a checkpoint trained with their code and converted by
#   python tools/model_converters/dcct_official_to_mmdcct.py IN OUT
#   python tools/test.py configs/dcct/dcct_r50-vit-b_official-ckpt_mars.py OUT
# The converter prints any further --cfg-options the checkpoint needs, e.g.
# model.head.loss_fd=None when it has no Hint_* tensors (trained without
# feature distillation, their default run).
_base_ = ['./dcct_r50-vit-b_2xb8-50e_mars.py']

# The backbones keep their Pretrained init_cfg: testing never initialises
# weights (tools/test.py only loads the checkpoint; mmdcct.apis drops the
# init when given one).
model = dict(
    # their HTA attention concatenates the heads without the output
    # projection (their blocks hold one, but the forward never applies it)
    temporal_neck=dict(attn_out_proj=False),
    # their classifier of the ViT base feature has a bias (training only:
    # no test feature goes through a classifier)
    head=dict(classifier_bias=dict(base=(False, True))))

"""``channels_last`` changes nothing beyond float tolerance, on the full DCCT
structure at demo scale (ResNet-18 + 4-layer ViT, CCA, HTA,
self-distillation). Activation checkpointing and bf16 autocast are tested
beside their modules (``tests/test_models/test_utils/``,
``tests/test_engine/test_optimizers/``)."""
import os.path as osp

import torch

from mmdcct.testing import (assert_same_features, assert_same_training,
                            build_model)

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
DEMO = osp.join(REPO, 'configs/dcct/dcct_demo.py')


def build(**model_kwargs) -> torch.nn.Module:
    return build_model(DEMO, **model_kwargs)


def test_channels_last_same_features_losses_and_grads():
    plain = build()
    fast = build(channels_last=True)
    fast.load_state_dict(plain.state_dict())
    conv = fast.backbone.cnn.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not conv.is_contiguous()  # the layout really changed
    # loading a checkpoint keeps the layout
    assert fast.backbone.transformer.patch_embed.projection.weight \
        .is_contiguous(memory_format=torch.channels_last)
    assert_same_features(plain, fast)
    assert_same_training(plain, fast, rel_tol=1e-2)

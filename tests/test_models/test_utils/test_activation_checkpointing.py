"""Activation checkpointing (``VideoReID(activation_checkpointing=...)``)
is exact on the full DCCT structure at demo scale (ResNet-18 + 4-layer ViT,
CCA, HTA, self-distillation) and keeps fewer activations."""
import copy
import os.path as osp
import pickle

import pytest
import torch

from mmdcct.models.utils.activation_checkpointing import CheckpointedForward
from mmdcct.testing import (assert_same_features, assert_same_training,
                            build_model, losses_and_grads, tracklet_batch)

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
DEMO = osp.join(REPO, 'configs/dcct/dcct_demo.py')


def build(**model_kwargs) -> torch.nn.Module:
    return build_model(DEMO, **model_kwargs)


def test_activation_checkpointing_exact_and_saves_activations():
    plain = build()
    ckpt = build(activation_checkpointing=[
        'backbone.transformer.layers', 'backbone.cnn.layer4'
    ])
    ckpt.load_state_dict(plain.state_dict())
    assert ckpt.checkpointed_modules == [
        'backbone.transformer.layers.0', 'backbone.transformer.layers.1',
        'backbone.transformer.layers.2', 'backbone.transformer.layers.3',
        'backbone.cnn.layer4.0', 'backbone.cnn.layer4.1'  # a Sequential too
    ]
    # state_dict keys untouched: pretrained / old checkpoints still load
    assert list(ckpt.state_dict()) == list(plain.state_dict())
    # recomputation restores the RNG (drop path): bit-identical training
    assert_same_training(plain, ckpt)
    assert_same_features(plain, ckpt, rtol=0, atol=0)

    # fewer tensors kept for backward: count saved activations
    def saved_bytes(model):
        total = [0]

        def pack(t):
            total[0] += t.numel() * t.element_size()
            return t

        model.train()
        data = model.data_preprocessor(tracklet_batch(), training=True)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            losses = model(**data, mode='loss')
        del losses
        return total[0]

    assert saved_bytes(ckpt) < 0.8 * saved_bytes(plain)


def test_activation_checkpointing_survives_deepcopy_and_pickle():
    model = build(activation_checkpointing=['backbone.transformer.layers'])
    clone = copy.deepcopy(model)
    layer = clone.backbone.transformer.layers[0]
    assert isinstance(layer.forward, CheckpointedForward)
    assert layer.forward.module is layer  # not the original model's layer
    restored = pickle.loads(pickle.dumps(model))
    layer = restored.backbone.transformer.layers[1]
    assert layer.forward.module is layer
    # the parameter gradients of the copy are its own
    losses_and_grads(clone)
    assert model.backbone.transformer.layers[0].ffn.layers[0][0] \
        .weight.grad is None


def test_activation_checkpointing_bad_name():
    with pytest.raises(ValueError, match='no submodule .*backbone.vit'):
        build(activation_checkpointing=['backbone.vit.layers'])

"""The model-side speed switches change nothing beyond float tolerance:
``channels_last``, activation checkpointing, bfloat16 autocast
(``AutocastOptimWrapper`` / ``tools/train.py --amp``), on the full DCCT
structure at demo scale (ResNet-18 + 4-layer ViT, CCA, HTA,
self-distillation)."""
import copy
import importlib.util
import os.path as osp
import pickle

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from mmdcct.engine import AutocastOptimWrapper
from mmdcct.models.utils.activation_checkpointing import CheckpointedForward
from mmdcct.registry import MODELS, OPTIM_WRAPPERS
from mmdcct.structures import VideoReIDDataSample
from mmdcct.utils import register_all_modules

register_all_modules()

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
DEMO = osp.join(REPO, 'configs/dcct/dcct_demo.py')


def build(**model_kwargs) -> torch.nn.Module:
    cfg = Config.fromfile(DEMO)
    cfg.model.update(model_kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def batch(seed: int = 1) -> dict:
    """4 uint8 tracklets of 4 frames (2 ids x 2), as the dataloader gives."""
    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, (4, 3, 64, 32), generator=gen,
                      dtype=torch.uint8) for _ in range(4)
    ]
    samples = [VideoReIDDataSample().set_gt_label(i // 2) for i in range(4)]
    return dict(inputs=inputs, data_samples=samples)


def losses_and_grads(model: torch.nn.Module, seed: int = 5):
    """Loss terms and parameter gradients of one training forward/backward,
    with the same RNG state (drop path) for every model."""
    model.train()
    model.zero_grad()
    data = model.data_preprocessor(batch(), training=True)
    torch.manual_seed(seed)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    grads = {
        name: p.grad.clone()
        for name, p in model.named_parameters() if p.grad is not None
    }
    return {k: v.detach() for k, v in losses.items()}, grads


def test_feature_values(model_a, model_b, rtol=1e-4, atol=1e-4):
    model_a.eval(), model_b.eval()
    data = model_a.data_preprocessor(batch(), training=False)
    with torch.no_grad():
        feat_a = model_a(**data, mode='tensor')
        feat_b = model_b(**data, mode='tensor')
    torch.testing.assert_close(feat_a, feat_b, rtol=rtol, atol=atol)


test_feature_values.__test__ = False  # a helper, not a test


def assert_same_training(model_a, model_b, rel_tol: float = 0.0):
    """Same losses and gradients: bit-identical for ``rel_tol=0``, else up
    to float rounding, which BN over 16 frames and hard-triplet mining
    amplify to a few 1e-3 relative in some gradients."""
    losses_a, grads_a = losses_and_grads(model_a)
    losses_b, grads_b = losses_and_grads(model_b)
    assert losses_a.keys() == losses_b.keys()
    for key in losses_a:
        torch.testing.assert_close(
            losses_a[key], losses_b[key], rtol=rel_tol, atol=rel_tol * 1e-2,
            msg=key)
    assert grads_a.keys() == grads_b.keys() and len(grads_a) > 100
    if rel_tol == 0:
        for name in grads_a:
            assert torch.equal(grads_a[name], grads_b[name]), name
        return
    flat_a = torch.cat([g.flatten() for g in grads_a.values()])
    flat_b = torch.cat([grads_b[name].flatten() for name in grads_a])
    assert (flat_a - flat_b).norm() < rel_tol * flat_a.norm()
    floor = 1e-6 * flat_a.norm()  # gradients that are rounding noise only
    for name, grad_a in grads_a.items():
        diff = (grad_a - grads_b[name]).norm()
        assert diff <= 2 * rel_tol * grad_a.norm() + floor, name


# ---------------------------------------------------------------- channels_last
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
    test_feature_values(plain, fast)
    assert_same_training(plain, fast, rel_tol=1e-2)


# ------------------------------------------------------- activation checkpointing
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
    test_feature_values(plain, ckpt, rtol=0, atol=0)

    # fewer tensors kept for backward: count saved activations
    def saved_bytes(model):
        total = [0]

        def pack(t):
            total[0] += t.numel() * t.element_size()
            return t

        model.train()
        data = model.data_preprocessor(batch(), training=True)
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


# ------------------------------------------------------------- bf16 autocast
def _wrapper(model, type_='OptimWrapper', **kwargs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    return OPTIM_WRAPPERS.build(
        dict(type=type_, optimizer=optimizer, **kwargs))


def test_autocast_optim_wrapper_train_step_close_to_fp32():
    plain = build()
    amp = build()
    amp.load_state_dict(plain.state_dict())
    wrapper_fp32 = _wrapper(plain)
    wrapper_bf16 = _wrapper(amp, 'mmdcct.AutocastOptimWrapper')
    assert isinstance(wrapper_bf16, AutocastOptimWrapper)

    # the forward really runs in bf16 under the wrapper's context
    with wrapper_bf16.optim_context(amp):
        out = amp.backbone.cnn.conv1(torch.randn(1, 3, 8, 8))
    assert out.dtype == torch.bfloat16

    torch.manual_seed(5)
    log_fp32 = plain.train_step(batch(), wrapper_fp32)
    torch.manual_seed(5)
    log_bf16 = amp.train_step(batch(), wrapper_bf16)
    assert log_fp32.keys() == log_bf16.keys()
    for key in log_fp32:
        assert log_bf16[key].dtype == torch.float32 or 'acc' in key
        torch.testing.assert_close(
            log_bf16[key].float(), log_fp32[key].float(), rtol=0.05,
            atol=0.05, msg=key)
    # master weights stay float32 and the SGD step moved them alike
    deltas = []
    init = build().state_dict()
    for (name, p32), p16 in zip(plain.named_parameters(), amp.parameters()):
        assert p16.dtype == torch.float32
        d32, d16 = p32.detach() - init[name], p16.detach() - init[name]
        if d32.norm() > 0:
            deltas.append(
                float(torch.nn.functional.cosine_similarity(
                    d32.flatten(), d16.flatten(), dim=0)))
    assert len(deltas) > 100
    # bf16 keeps ~3 significant digits: the update directions agree
    # (median cosine 0.93 here; the temporal neck, fed by bf16 backbone
    # features, is the noisiest) without being equal
    assert sorted(deltas)[len(deltas) // 2] > 0.85


def test_autocast_optim_wrapper_refuses_float16():
    with pytest.raises(ValueError, match='AmpOptimWrapper'):
        _wrapper(build(), 'mmdcct.AutocastOptimWrapper', dtype='float16')


def _load_train_tool():
    spec = importlib.util.spec_from_file_location(
        'mmdcct_train_tool', osp.join(REPO, 'tools/train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('cuda, expected', [
    (False, 'mmdcct.AutocastOptimWrapper'),
    (True, 'AmpOptimWrapper'),
])
def test_train_tool_amp_flag_picks_the_device_recipe(cuda, expected):
    train_tool = _load_train_tool()
    cfg = Config(dict(optim_wrapper=dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))))
    train_tool.enable_amp(cfg, cuda=cuda)
    assert cfg.optim_wrapper.type == expected
    if cuda:
        assert cfg.optim_wrapper.loss_scale == 'dynamic'
    else:
        assert cfg.optim_wrapper.dtype == 'bfloat16'
        wrapper = OPTIM_WRAPPERS.build(
            dict(cfg.optim_wrapper, optimizer=torch.optim.SGD(
                build().parameters(), lr=0.1)))
        assert isinstance(wrapper, AutocastOptimWrapper)
    cfg = Config(dict(optim_wrapper=dict(type='ApexOptimWrapper')))
    with pytest.raises(ValueError, match='ApexOptimWrapper'):
        train_tool.enable_amp(cfg, cuda=cuda)

"""Checks that two builds of one model compute the same thing, for the tests
of the speed switches (``channels_last``, activation checkpointing, bf16
autocast)."""
from typing import Dict, Tuple

import torch
from mmengine.config import Config

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample

TensorDict = Dict[str, torch.Tensor]


def build_model(config: str,
                seed: int = 0,
                **model_kwargs) -> torch.nn.Module:
    """Build ``config``'s model with ``model_kwargs`` merged into it, with
    parameters drawn after ``torch.manual_seed(seed)``."""
    from mmdcct.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    cfg.model.update(model_kwargs)
    torch.manual_seed(seed)
    return MODELS.build(cfg.model)


def tracklet_batch(seed: int = 1) -> dict:
    """4 uint8 tracklets of 4 frames ``(4, 3, 64, 32)`` (2 ids x 2), as the
    dataloader gives them to the demo configs."""
    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, (4, 3, 64, 32), generator=gen,
                      dtype=torch.uint8) for _ in range(4)
    ]
    samples = [VideoReIDDataSample().set_gt_label(i // 2) for i in range(4)]
    return dict(inputs=inputs, data_samples=samples)


def losses_and_grads(model: torch.nn.Module,
                     seed: int = 5) -> Tuple[TensorDict, TensorDict]:
    """Loss terms and parameter gradients of one training forward/backward,
    with the same RNG state (drop path) for every model."""
    model.train()
    model.zero_grad()
    data = model.data_preprocessor(tracklet_batch(), training=True)
    torch.manual_seed(seed)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    grads = {
        name: p.grad.clone()
        for name, p in model.named_parameters() if p.grad is not None
    }
    return {k: v.detach() for k, v in losses.items()}, grads


def assert_same_features(model_a: torch.nn.Module,
                         model_b: torch.nn.Module,
                         rtol: float = 1e-4,
                         atol: float = 1e-4) -> None:
    """Test features of :func:`tracklet_batch` agree within tolerance."""
    model_a.eval(), model_b.eval()
    data = model_a.data_preprocessor(tracklet_batch(), training=False)
    with torch.no_grad():
        feat_a = model_a(**data, mode='tensor')
        feat_b = model_b(**data, mode='tensor')
    torch.testing.assert_close(feat_a, feat_b, rtol=rtol, atol=atol)


def assert_same_training(model_a: torch.nn.Module,
                         model_b: torch.nn.Module,
                         rel_tol: float = 0.0) -> None:
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

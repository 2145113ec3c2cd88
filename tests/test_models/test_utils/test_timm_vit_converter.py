"""timm ViT weights in mmpretrain's VisionTransformer: the name mapping, the
``timm-vit://`` checkpoint scheme through MMEngine's ``Pretrained`` init, and
the bilinear resize of the position grid (14x14 -> 16x8)."""
import pytest
import timm
import torch
import torch.nn.functional as F
from mmpretrain.models import VisionTransformer

from mmdcct.models.utils import (TIMM_VIT_SCHEME, TimmViTConversionError,
                                 convert_timm_vit)


def timm_vit(name: str = 'vit_base_patch16_224') -> torch.nn.Module:
    torch.manual_seed(0)
    model = timm.create_model(name, pretrained=False).eval()
    with torch.no_grad():  # timm zero-inits some tensors: make all distinct
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.02)
    return model


@pytest.fixture(scope='module')
def vit_b():
    return timm_vit()


@pytest.fixture(scope='module')
def vit_b_file(vit_b, tmp_path_factory):
    path = tmp_path_factory.mktemp('timm') / 'vit_b.pth'
    torch.save(vit_b.state_dict(), path)
    return str(path)


def test_base_is_key_complete_and_tokens_equal_timm(vit_b):
    converted = convert_timm_vit(vit_b.state_dict())
    assert len(converted) == len(vit_b.state_dict()) - 2  # head.{weight,bias}
    mm = VisionTransformer(arch='b', img_size=224, out_type='raw')
    mm.load_state_dict(converted, strict=True)
    mm.eval()  # (mmpretrain's train() returns None)

    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        ref = vit_b.forward_features(x)
        out = mm(x)[0]
    assert out.shape == ref.shape == (1, 197, 768)
    delta = (out - ref).abs().max().item()
    print(f'timm -> mmpretrain ViT-B tokens: max |delta| = {delta:.3e}')
    assert delta < 1e-4 * ref.abs().max().item()


def test_pretrained_scheme_loads_every_tensor_and_resizes_bilinearly(
        vit_b, vit_b_file, mmlogger_messages):
    mm = VisionTransformer(
        arch='b',
        img_size=(256, 128),
        patch_size=16,
        out_type='raw',
        interpolate_mode='bilinear',
        init_cfg=dict(
            type='Pretrained', checkpoint=TIMM_VIT_SCHEME + vit_b_file))
    mm.init_weights()

    timm_sd = vit_b.state_dict()
    ref_grid = timm_sd['pos_embed'][:, 1:].reshape(1, 14, 14, 768)
    ref_grid = F.interpolate(
        ref_grid.permute(0, 3, 1, 2),
        size=(16, 8),
        mode='bilinear',
        align_corners=False).flatten(2).transpose(1, 2)
    pos_embed = mm.pos_embed.detach()
    assert pos_embed.shape == (1, 1 + 16 * 8, 768)
    assert torch.equal(pos_embed[:, :1], timm_sd['pos_embed'][:, :1])
    delta = (pos_embed[:, 1:] - ref_grid).abs().max().item()
    print(f'pos_embed 14x14 -> 16x8 vs bilinear reference: '
          f'max |delta| = {delta:.3e}')
    assert delta <= 1e-6

    # every other tensor landed unchanged (nothing re-initialised after it)
    converted = convert_timm_vit(timm_sd)
    mm_sd = mm.state_dict()
    assert set(mm_sd) == set(converted)
    for key, value in converted.items():
        if key != 'pos_embed':
            assert torch.equal(mm_sd[key], value), key

    text = '\n'.join(mmlogger_messages)
    assert '150 timm ViT tensors renamed' in text
    assert 'head.weight, head.bias' in text
    assert 'missing keys' not in text and 'unexpected key' not in text


def test_bicubic_mode_gives_another_grid(tmp_path):
    # the backbone's interpolate_mode decides the resize: the configs must
    # say 'bilinear' (mmpretrain's default is bicubic)
    path = tmp_path / 'vit_tiny.pth'
    torch.save(timm_vit('vit_tiny_patch16_224').state_dict(), path)
    grids = []
    for mode in ('bilinear', 'bicubic'):
        mm = VisionTransformer(
            arch='deit-tiny',
            img_size=(256, 128),
            out_type='raw',
            interpolate_mode=mode,
            init_cfg=dict(
                type='Pretrained', checkpoint=TIMM_VIT_SCHEME + str(path)))
        mm.init_weights()
        grids.append(mm.pos_embed.detach())
    assert not torch.allclose(grids[0], grids[1], atol=1e-5)


def test_data_parallel_prefix_and_wrapped_checkpoint(tmp_path):
    model = timm_vit('vit_tiny_patch16_224')
    wrapped = {'state_dict': {f'module.{k}': v
                              for k, v in model.state_dict().items()}}
    path = tmp_path / 'wrapped.pth'
    torch.save(wrapped, path)
    mm = VisionTransformer(
        arch='deit-tiny',
        img_size=224,
        out_type='raw',
        init_cfg=dict(type='Pretrained', checkpoint=f'timm-vit://{path}'))
    mm.init_weights()
    mm.eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(mm(x)[0],
                                   model.forward_features(x))


def test_clear_errors(tmp_path):
    tiny = timm_vit('vit_tiny_patch16_224').state_dict()

    mm_names = VisionTransformer(arch='deit-tiny', img_size=224).state_dict()
    with pytest.raises(TimmViTConversionError, match='mmpretrain names'):
        convert_timm_vit(mm_names)

    whole_model = {f'trans_backbone.{k}': v for k, v in tiny.items()}
    with pytest.raises(TimmViTConversionError, match='select the ViT'):
        convert_timm_vit(whole_model)

    no_cls_pos = dict(tiny, pos_embed=tiny['pos_embed'][:, 1:])
    with pytest.raises(TimmViTConversionError, match='no class-token'):
        convert_timm_vit(no_cls_pos)

    with pytest.raises(TimmViTConversionError, match='no ViT tensor'):
        convert_timm_vit({'head.weight': tiny['head.weight']})

    mm = VisionTransformer(
        arch='deit-tiny',
        img_size=224,
        init_cfg=dict(type='Pretrained', checkpoint=TIMM_VIT_SCHEME))
    with pytest.raises(TimmViTConversionError, match='path or URL'):
        mm.init_weights()

    path = tmp_path / 'mm.pth'
    torch.save(mm_names, path)
    mm = VisionTransformer(
        arch='deit-tiny',
        img_size=224,
        init_cfg=dict(
            type='Pretrained', checkpoint=TIMM_VIT_SCHEME + str(path)))
    with pytest.raises(TimmViTConversionError, match=str(path)):
        mm.init_weights()

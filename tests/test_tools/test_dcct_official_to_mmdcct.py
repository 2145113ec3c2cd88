"""tools/model_converters/dcct_official_to_mmdcct.py on a state dict with
exactly the key names and shapes of the DCCT authors' public code (their
default run: ResNet-50 + ViT-B/16, CCA, HTA with D=512 and 2 layers, MARS'
625 identities), written out here from their layout with random values.

Every tensor must land on the right module of our model: strict loading,
value equality of every mapped tensor (BN buffers included), the ResNet and
ViT against torchvision / timm models holding the authors' tensors, CCA and
HTA against the authors' equations evaluated on their tensors."""
import argparse
import importlib.util
import math
import os.path as osp
import shlex
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.runner import load_checkpoint

from mmdcct.registry import MODELS
from mmdcct.utils import register_all_modules
from mmdcct.utils.config_utils import remove_pretrained_init

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'model_converters',
                'dcct_official_to_mmdcct.py')
OFFICIAL = osp.join(REPO, 'configs', 'dcct',
                    'dcct_r50-vit-b_official-ckpt_mars.py')
NUM_CLASSES, D, T = 625, 512, 8


def _load_tool():
    spec = importlib.util.spec_from_file_location('dcct_official', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()

# ---------------------------------------------------------------------------
# the authors' layout
# ---------------------------------------------------------------------------


def _resnet50_sequential_shapes():
    """torchvision's ResNet-50 as ``nn.Sequential(*children[:-2])``."""
    import torchvision
    names = {'conv1': '0', 'bn1': '1', 'layer1': '4', 'layer2': '5',
             'layer3': '6', 'layer4': '7'}
    shapes = OrderedDict()
    with torch.device('meta'):  # shapes only
        resnet = torchvision.models.resnet50()
    for key, value in resnet.state_dict().items():
        first, rest = key.split('.', 1)
        if first == 'fc':
            continue
        shapes[f'cnn_backbone.{names[first]}.{rest}'] = tuple(value.shape)
    return shapes


def _bn(prefix, c):
    return [(f'{prefix}.{n}', (c, )) for n in
            ('weight', 'bias', 'running_mean', 'running_var')] + [
                (f'{prefix}.num_batches_tracked', ())]


def _linear(prefix, out_c, in_c, bias=True):
    return [(f'{prefix}.weight', (out_c, in_c))] + (
        [(f'{prefix}.bias', (out_c, ))] if bias else [])


def _ln(prefix, c):
    return [(f'{prefix}.weight', (c, )), (f'{prefix}.bias', (c, ))]


def _hta_block(prefix, dim, ratio):
    hidden = int(dim * ratio)
    b = f'{prefix}.blocks.0'
    return ([(f'{prefix}.cls_token', (1, 1, dim)),
             (f'{prefix}.pos_embed', (1, T, dim))] + _ln(f'{b}.norm1', dim)
            + _linear(f'{b}.attn.qkv', 3 * dim, dim)
            + _linear(f'{b}.attn.proj', dim, dim) + _ln(f'{b}.norm2', dim)
            + _linear(f'{b}.ffn.fc1', hidden, dim)
            + _linear(f'{b}.ffn.fc2', dim, hidden) + _ln(f'{prefix}.norm',
                                                         dim))


def authors_shapes(hints: bool) -> 'OrderedDict[str, tuple]':
    """Key -> shape of the authors' DCCT (without the ``module.`` prefix)."""
    shapes = _resnet50_sequential_shapes()
    vit = [('trans_backbone.cls_token', (1, 1, 768)),
           ('trans_backbone.pos_embed', (1, 129, 768)),
           ('trans_backbone.patch_embed.proj.weight', (768, 3, 16, 16)),
           ('trans_backbone.patch_embed.proj.bias', (768, ))]
    for i in range(12):
        b = f'trans_backbone.blocks.{i}'
        vit += (_ln(f'{b}.norm1', 768) + _linear(f'{b}.attn.qkv', 2304, 768)
                + _linear(f'{b}.attn.proj', 768, 768)
                + _ln(f'{b}.norm2', 768)
                + _linear(f'{b}.mlp.fc1', 3072, 768)
                + _linear(f'{b}.mlp.fc2', 768, 3072))
    vit += _ln('trans_backbone.norm', 768) + _linear('trans_backbone.fc',
                                                     1000, 768)
    cca = []
    for name, c, other in (('cnn', 2048, 768), ('trans', 768, 2048)):
        m = c // 2
        p = f'CCA_{name}'
        for lin, in_c in (('linear_glo', c), ('linear_spa_1', c),
                          ('linear_v1', c), ('linear_fusion', other),
                          ('linear_spa_2', c), ('linear_v2', c)):
            cca += _linear(f'{p}.{lin}.0', m, in_c, bias=False)
        cca += (_ln(f'{p}.norm1', c)
                + _linear(f'{p}.linear_project.0', c, c, bias=False)
                + _linear(f'{p}.linear_project.2', c, c, bias=False))
    hta = (_linear('HTA.align_projector_1.0', D, 2048)
           + _linear('HTA.align_projector_2.0', D, 768))
    for k, ratio in ((1, 4.0), (2, 0.25)):
        hta += (_hta_block(f'HTA.cnn_TT_{k}', D, ratio)
                + _hta_block(f'HTA.trans_TT_{k}', D, ratio)
                + _hta_block(f'HTA.AT_{k}', 2 * D, ratio))
    for b in ('cnn', 'trans'):
        hta += (_linear(f'HTA.{b}_GA_1.linear_project.0', D, 2 * D,
                        bias=False)
                + _bn(f'HTA.{b}_GA_1.chanel_attention.0', D)
                + _linear(f'HTA.{b}_GA_1.chanel_attention.1', D, D))
    head = []
    for name, c in (('cnn_base', 2048), ('trans_base', 768),
                    ('cnn_spa', 2048), ('trans_spa', 768), ('final', 1024)):
        head += _bn(f'bottleneck_{name}', c)
        head += _linear(f'classifier_{name}', NUM_CLASSES, c,
                        bias=name == 'trans_base')
    if hints:
        head += (_linear('Hint_cnn.0', 2 * D, 2048)
                 + _linear('Hint_trans.0', 2 * D, 768))
    shapes.update(vit + cca + hta + head)
    return shapes


def random_value(key: str, shape: tuple) -> torch.Tensor:
    """Random values at sane scales (forwards stay finite)."""
    if key.endswith('num_batches_tracked'):
        return torch.randint(1, 10**6, ()).long()
    if key.endswith('running_var'):
        return torch.rand(shape) * 0.5 + 0.75
    if key.endswith(('running_mean', 'cls_token', 'pos_embed')):
        return torch.randn(shape) * 0.1
    if len(shape) == 1:
        if key.endswith('weight'):  # BN / LN scale
            return 1 + 0.1 * torch.randn(shape)
        return 0.05 * torch.randn(shape)
    return torch.randn(shape) / math.sqrt(math.prod(shape[1:]))


#: The 20 tensors their forward never uses.
UNUSED = (['trans_backbone.fc.weight', 'trans_backbone.fc.bias'] + [
    f'HTA.{m}_{k}.cls_token' for m in ('cnn_TT', 'trans_TT', 'AT')
    for k in (1, 2)
] + [
    f'HTA.{m}_{k}.blocks.0.attn.proj.{p}'
    for m in ('cnn_TT', 'trans_TT', 'AT') for k in (1, 2)
    for p in ('weight', 'bias')
])


@pytest.fixture(scope='module')
def theirs():
    """The authors' state dict with hints (no ``module.`` prefix)."""
    torch.manual_seed(0)
    return OrderedDict((k, random_value(k, s))
                       for k, s in authors_shapes(hints=True).items())


def with_module(state_dict, drop_hints=False):
    return OrderedDict((f'module.{k}', v) for k, v in state_dict.items()
                       if not (drop_hints and k.startswith('Hint_')))


def build_model(options=None):
    cfg = Config.fromfile(OFFICIAL)
    if options:
        cfg.merge_from_dict(options)
    model = MODELS.build(remove_pretrained_init(cfg.model))
    return model.eval()


@pytest.fixture(scope='module')
def converted(theirs):
    return tool.convert(with_module(theirs))


@pytest.fixture(scope='module')
def model(converted):
    model = build_model()
    result = model.load_state_dict(converted[0], strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return model


# ---------------------------------------------------------------------------
# bookkeeping: everything lands, nothing else is dropped
# ---------------------------------------------------------------------------


def test_every_tensor_lands_with_its_value(theirs, converted, model):
    new_sd, report = converted
    ours = model.state_dict()
    assert set(new_sd) == set(ours)
    assert len(report['mapped']) == len(ours) == len(theirs) - len(UNUSED)
    assert set(report['mapped'].values()) | set(report['dropped']) == set(
        theirs)
    assert not set(report['mapped'].values()) & set(report['dropped'])
    for our_key, their_key in report['mapped'].items():
        assert ours[our_key].shape == theirs[their_key].shape, our_key
        assert torch.equal(ours[our_key], theirs[their_key]), (our_key,
                                                               their_key)
    # the BN buffers are kept (ResNet, GA gates and BN-necks)
    buffers = [k for k in theirs if k.endswith(
        ('running_mean', 'running_var', 'num_batches_tracked'))]
    assert len(buffers) == 3 * (53 + 2 + 5)
    assert set(buffers) <= set(report['mapped'].values())
    assert report['cfg_options'] == []  # the official config fits as is


def test_only_the_documented_unused_tensors_are_dropped(converted):
    report = converted[1]
    assert sorted(report['dropped']) == sorted(UNUSED)
    assert len(UNUSED) == 20


def test_head_necks_and_hints_land_on_their_branch(theirs, model):
    head = model.head
    pairs = {
        'bottleneck_cnn_base': head.frame_necks[0].bn,
        'bottleneck_trans_base': head.frame_necks[1].bn,
        'bottleneck_cnn_spa': head.spatial_necks[0].bn,
        'bottleneck_trans_spa': head.spatial_necks[1].bn,
        'bottleneck_final': head.video_neck.bn,
        'classifier_cnn_base': head.frame_necks[0].classifier,
        'classifier_trans_base': head.frame_necks[1].classifier,
        'classifier_cnn_spa': head.spatial_necks[0].classifier,
        'classifier_trans_spa': head.spatial_necks[1].classifier,
        'classifier_final': head.video_neck.classifier,
        'Hint_cnn.0': head.hints[0],
        'Hint_trans.0': head.hints[1],
    }
    for prefix, module in pairs.items():
        for name, tensor in module.state_dict().items():
            assert torch.equal(tensor, theirs[f'{prefix}.{name}']), (prefix,
                                                                     name)
    assert torch.equal(head.frame_necks[1].classifier.bias,
                       theirs['classifier_trans_base.bias'])
    assert head.frame_necks[0].classifier.bias is None
    assert head.video_neck.classifier.bias is None


# ---------------------------------------------------------------------------
# function: each part computes the authors' function with their tensors
# ---------------------------------------------------------------------------


def _close(ours, ref):
    assert torch.isfinite(ref).all()
    torch.testing.assert_close(
        ours, ref, rtol=1e-4, atol=1e-4 * float(ref.abs().max()))


def test_resnet_equals_their_sequential_resnet(theirs, model):
    import torchvision
    with torch.device('meta'):  # every tensor comes from their state dict
        resnet = torchvision.models.resnet50()
    resnet.layer4[0].conv2.stride = (1, 1)  # last stride 1
    resnet.layer4[0].downsample[0].stride = (1, 1)
    seq = torch.nn.Sequential(*list(resnet.children())[:-2])
    seq.load_state_dict(
        {
            k[len('cnn_backbone.'):]: v
            for k, v in theirs.items() if k.startswith('cnn_backbone.')
        },
        strict=True,
        assign=True)
    x = torch.randn(1, 3, 64, 32)
    with torch.no_grad():
        _close(model.backbone.cnn(x)[-1], seq.eval()(x))


def test_vit_equals_timm_with_their_tensors(theirs, model):
    from timm.models.vision_transformer import VisionTransformer
    with torch.device('meta'):  # every tensor comes from their state dict
        vit = VisionTransformer(img_size=(256, 128), weight_init='skip')
    state = {
        k[len('trans_backbone.'):].replace('fc.', 'head.'): v
        for k, v in theirs.items() if k.startswith('trans_backbone.')
    }
    vit.load_state_dict(state, strict=True, assign=True)
    x = torch.randn(1, 3, 256, 128)
    with torch.no_grad():
        ours = model.backbone.transformer(x)[-1]
        _close(ours, vit.eval().forward_features(x))


def _cca_reference(p, prefix, local, other_global):
    """The authors' CCA (Liu et al., §III-B) on their tensors."""

    def lin(name, x):
        return F.linear(x, p[f'{prefix}.{name}.0.weight'])

    c = local.shape[-1]
    qs = local.mean(1)
    values = []
    for q_name, q_in, k_name, v_name in (
            ('linear_glo', qs, 'linear_spa_1', 'linear_v1'),
            ('linear_fusion', other_global, 'linear_spa_2', 'linear_v2')):
        logits = torch.einsum('nc,nlc->nl', lin(q_name, q_in),
                              lin(k_name, local)) / math.sqrt(c // 2)
        values.append(torch.einsum('nl,nlc->nc', logits.softmax(-1),
                                   lin(v_name, local)))
    z = torch.cat(values, 1) + qs
    h = F.layer_norm(z, (c, ), p[f'{prefix}.norm1.weight'],
                     p[f'{prefix}.norm1.bias'])
    h = F.linear(F.relu(F.linear(h, p[f'{prefix}.linear_project.0.weight'])),
                 p[f'{prefix}.linear_project.2.weight'])
    return z + h


def test_cca_equals_the_authors_equations(theirs, model):
    torch.manual_seed(1)
    cnn_local, trans_local = torch.randn(3, 128, 2048), torch.randn(
        3, 128, 768)
    cnn_global, trans_global = cnn_local.mean(1), torch.randn(3, 768)
    with torch.no_grad():
        y_cnn, y_trans = model.spatial_neck(
            ((cnn_local, cnn_global), (trans_local, trans_global)))
    _close(y_cnn, _cca_reference(theirs, 'CCA_cnn', cnn_local, trans_global))
    _close(y_trans,
           _cca_reference(theirs, 'CCA_trans', trans_local, cnn_global))


def _block_reference(p, prefix, x, heads=8):
    """One of their HTA transformer blocks: no class token, and the heads
    are concatenated without the (unused) output projection."""
    b, t, c = x.shape
    blk = f'{prefix}.blocks.0'

    def ln(name, y):
        return F.layer_norm(y, (c, ), p[f'{name}.weight'], p[f'{name}.bias'],
                            eps=1e-6)

    def lin(name, y):
        return F.linear(y, p[f'{name}.weight'], p[f'{name}.bias'])

    x = x + p[f'{prefix}.pos_embed']
    qkv = lin(f'{blk}.attn.qkv', ln(f'{blk}.norm1', x))
    q, k, v = qkv.reshape(b, t, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    attn = (q @ k.transpose(-2, -1) / math.sqrt(c // heads)).softmax(-1)
    x = x + (attn @ v).transpose(1, 2).reshape(b, t, c)
    h = lin(f'{blk}.ffn.fc2',
            F.gelu(lin(f'{blk}.ffn.fc1', ln(f'{blk}.norm2', x))))
    return ln(f'{prefix}.norm', x + h)


def _gate_reference(p, prefix, x, video):
    proj = F.linear(video, p[f'{prefix}.linear_project.0.weight'])[:, None]
    bn = f'{prefix}.chanel_attention.0'
    h = F.batch_norm((x * proj).flatten(0, 1), p[f'{bn}.running_mean'],
                     p[f'{bn}.running_var'], p[f'{bn}.weight'],
                     p[f'{bn}.bias'], training=False)
    g = torch.sigmoid(
        F.linear(h, p[f'{prefix}.chanel_attention.1.weight'],
                 p[f'{prefix}.chanel_attention.1.bias'])).view_as(x)
    return g * x + (1 - g) * proj


def test_hta_equals_the_authors_equations(theirs, model):
    p = theirs
    torch.manual_seed(2)
    x_cnn, x_trans = torch.randn(2, T, 2048), torch.randn(2, T, 768)
    xc = F.linear(x_cnn, p['HTA.align_projector_1.0.weight'],
                  p['HTA.align_projector_1.0.bias'])
    xt = F.linear(x_trans, p['HTA.align_projector_2.0.weight'],
                  p['HTA.align_projector_2.0.bias'])
    video = None
    for k in (1, 2):
        if k > 1:
            xc = _gate_reference(p, f'HTA.cnn_GA_{k - 1}', xc, video)
            xt = _gate_reference(p, f'HTA.trans_GA_{k - 1}', xt, video)
        xc = _block_reference(p, f'HTA.cnn_TT_{k}', xc)
        xt = _block_reference(p, f'HTA.trans_TT_{k}', xt)
        video = _block_reference(p, f'HTA.AT_{k}', torch.cat([xc, xt],
                                                             2)).mean(1)
    with torch.no_grad():
        _close(model.temporal_neck((x_cnn, x_trans)), video)


# ---------------------------------------------------------------------------
# the command line tool: files, printed config, errors
# ---------------------------------------------------------------------------


def _parse_command(stdout):
    line = next(ln for ln in stdout.splitlines()
                if ln.strip().startswith('python tools/test.py'))
    words = shlex.split(line)
    options = {}
    if '--cfg-options' in words:
        parser = argparse.ArgumentParser()
        parser.add_argument('--cfg-options', nargs='+', action=DictAction)
        options = parser.parse_args(
            words[words.index('--cfg-options'):]).cfg_options
    return words[2], words[3], options


def test_without_hints_file_loads_strict_on_the_printed_config(
        theirs, tmp_path, capsys):
    """Their default run (no feature distillation, so no ``Hint_*``),
    saved as ``{'state_dict': ..., 'epoch': ...}``."""
    in_file, out_file = tmp_path / 'theirs.pth', tmp_path / 'ours.pth'
    torch.save(
        dict(state_dict=with_module(theirs, drop_hints=True), epoch=400),
        in_file)
    report = tool.main([str(in_file), str(out_file)])
    stdout = capsys.readouterr().out
    assert f"mapped  {len(theirs) - len(UNUSED) - 4} tensors" in stdout
    assert 'dropped 20 tensors' in stdout
    config, path, options = _parse_command(stdout)
    assert config == 'configs/dcct/dcct_r50-vit-b_official-ckpt_mars.py'
    assert path == str(out_file)
    assert options == {'model.head.loss_fd': None}
    assert not report['info']['hints']

    model = build_model(options)
    assert model.head.hints is None
    checkpoint = load_checkpoint(model, path, strict=True)  # raises if not
    assert checkpoint['meta']['source_file'] == 'theirs.pth'
    ours = model.state_dict()
    for our_key, their_key in report['mapped'].items():
        assert torch.equal(ours[our_key], theirs[their_key]), our_key


def test_bare_state_dict_and_another_dataset(tmp_path, capsys):
    """A bare state dict; 150 identities (iLIDS-VID) selects that config
    with every switch on the command line."""
    torch.manual_seed(3)
    shapes = {
        k: s
        for k, s in authors_shapes(hints=False).items()
        if k.startswith(('classifier_', 'bottleneck_'))
    }
    shapes = {
        k: ((150, ) + s[1:] if k.startswith('classifier_') else s)
        for k, s in shapes.items()
    }
    state = OrderedDict(
        (f'module.{k}', random_value(k, s)) for k, s in shapes.items())
    in_file, out_file = tmp_path / 'bare.pth', tmp_path / 'out.pth'
    torch.save(state, in_file)
    tool.main([str(in_file), str(out_file)])
    config, _, options = _parse_command(capsys.readouterr().out)
    assert config == 'configs/dcct/dcct_r50-vit-b_2xb8-50e_ilids-vid.py'
    assert options == {
        'model.temporal_neck.attn_out_proj': False,
        'model.head.classifier_bias.base': (False, True),
        'model.head.loss_fd': None,
        'model.head.num_classes': 150,
    }
    out = torch.load(out_file, weights_only=True)
    assert set(out) == {'state_dict', 'meta'}
    assert torch.equal(out['state_dict']['head.video_neck.bn.running_var'],
                       state['module.bottleneck_final.running_var'])
    assert torch.equal(
        out['state_dict']['head.frame_necks.1.classifier.bias'],
        state['module.classifier_trans_base.bias'])


@pytest.mark.parametrize('extra', [
    'trans_backbone.sie_embed',
    'HTA.cnn_TT_1.blocks.0.attn.q_norm.weight',
    'cnn_backbone.8.weight',
    'CCA_cnn.linear_spa_3.0.weight',
    'HTA.cnn_GA_0.linear_project.0.weight',
])
def test_unknown_key_is_an_error_naming_it(extra, tmp_path, capsys):
    state = OrderedDict([('module.bottleneck_final.weight', torch.ones(4)),
                         (f'module.{extra}', torch.zeros(2))])
    with pytest.raises(tool.ConversionError, match=extra.replace('.', r'\.')):
        tool.convert(state)
    in_file, out_file = tmp_path / 'in.pth', tmp_path / 'out.pth'
    torch.save(state, in_file)
    with pytest.raises(SystemExit):
        tool.main([str(in_file), str(out_file)])
    assert extra in capsys.readouterr().err
    assert not out_file.exists()


def test_not_a_state_dict_is_an_error(tmp_path, capsys):
    in_file = tmp_path / 'in.pth'
    torch.save(dict(model=dict(a=torch.ones(1)), epoch=3), in_file)
    with pytest.raises(SystemExit):
        tool.main([str(in_file), str(tmp_path / 'out.pth')])
    err = capsys.readouterr().err
    assert "'state_dict'" in err and "'model'" in err

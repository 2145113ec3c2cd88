import pytest
import torch

from mmdcct.models.necks import ComplementaryContentAttention
from mmdcct.registry import MODELS


def _feats(n=6, l1=8, l2=10, c1=32, c2=24, requires_grad=False):
    feats = ((torch.randn(n, l1, c1), torch.randn(n, c1)),
             (torch.randn(n, l2, c2), torch.randn(n, c2)))
    if requires_grad:
        for branch in feats:
            for t in branch:
                t.requires_grad_(True)
    return feats


@pytest.mark.parametrize('c1,c2', [(32, 24), (24, 32), (16, 16), (33, 17),
                                   (7, 2)])
def test_cca_shapes(c1, c2):
    cca = MODELS.build(
        dict(type='ComplementaryContentAttention', in_channels=(c1, c2)))
    assert isinstance(cca, ComplementaryContentAttention)
    y_cnn, y_trans = cca(_feats(c1=c1, c2=c2))
    assert y_cnn.shape == (6, c1)
    assert y_trans.shape == (6, c2)
    assert torch.isfinite(y_cnn).all() and torch.isfinite(y_trans).all()


def test_cca_odd_width_split():
    cca = ComplementaryContentAttention(in_channels=(33, 17))
    branch = cca.cnn_branch
    assert branch.v_self.out_features + branch.v_cross.out_features == 33
    assert branch.v_self.out_features == 17
    assert branch.q_cross.in_features == 17  # the other branch's width
    assert branch.q_self.out_features == branch.key_dims == 16


def test_cca_full_size():
    cca = ComplementaryContentAttention(in_channels=(2048, 768))
    (y_cnn, y_trans), attn = cca(
        _feats(n=2, l1=128, l2=128, c1=2048, c2=768), return_attention=True)
    assert y_cnn.shape == (2, 2048) and y_trans.shape == (2, 768)
    assert set(attn) == {'cnn_self', 'cnn_cross', 'trans_self', 'trans_cross'}
    for value in attn.values():
        assert value.shape == (2, 128)
    # M = C / 2 for the paper's widths
    assert cca.cnn_branch.v_self.out_features == 1024
    assert cca.trans_branch.v_cross.out_features == 384


def test_cca_attention_maps_are_softmax():
    cca = ComplementaryContentAttention(in_channels=(32, 24))
    _, attn = cca(_feats(l1=8, l2=10), return_attention=True)
    assert attn['cnn_self'].shape == attn['cnn_cross'].shape == (6, 8)
    assert attn['trans_self'].shape == attn['trans_cross'].shape == (6, 10)
    for value in attn.values():
        assert (value >= 0).all()
        torch.testing.assert_close(value.sum(dim=1), torch.ones(6))


@pytest.mark.parametrize('self_head,cross_head', [(True, False),
                                                  (False, True)])
def test_cca_single_head(self_head, cross_head):
    cca = ComplementaryContentAttention(
        in_channels=(32, 24), self_head=self_head, cross_head=cross_head)
    (y_cnn, y_trans), attn = cca(_feats(), return_attention=True)
    assert y_cnn.shape == (6, 32) and y_trans.shape == (6, 24)
    kind = 'self' if self_head else 'cross'
    assert set(attn) == {f'cnn_{kind}', f'trans_{kind}'}
    # the remaining head's value projection maps to C
    value = getattr(cca.cnn_branch, f'v_{kind}')
    assert value.out_features == 32
    assert not hasattr(cca.cnn_branch, 'v_cross' if self_head else 'v_self')


def test_cca_needs_a_head():
    with pytest.raises(ValueError, match='spatial_neck=None'):
        ComplementaryContentAttention(self_head=False, cross_head=False)


def test_cca_bias_free_projections():
    cca = ComplementaryContentAttention(in_channels=(32, 24))
    for name, module in cca.named_modules():
        if isinstance(module, torch.nn.Linear):
            assert module.bias is None, name


def test_cca_matches_reference_equations():
    torch.manual_seed(0)
    cca = ComplementaryContentAttention(in_channels=(32, 24))
    feats = _feats()
    (local, _), (_, other_global) = feats
    b = cca.cnn_branch
    qs = local.mean(dim=1)
    m = 16
    a_s = torch.softmax(
        torch.einsum('nc,nlc->nl', b.q_self(qs), b.k_self(local)) / m**0.5,
        dim=1)
    a_o = torch.softmax(
        torch.einsum('nc,nlc->nl', b.q_cross(other_global), b.k_cross(local))
        / m**0.5,
        dim=1)
    vs = torch.einsum('nl,nlc->nc', a_s, b.v_self(local))
    vo = torch.einsum('nl,nlc->nc', a_o, b.v_cross(local))
    z = torch.cat([vs, vo], dim=1) + qs
    expected = z + b.mlp(b.norm(z))
    (y_cnn, _), attn = cca(feats, return_attention=True)
    torch.testing.assert_close(y_cnn, expected)
    torch.testing.assert_close(attn['cnn_self'], a_s)
    torch.testing.assert_close(attn['cnn_cross'], a_o)


@pytest.mark.parametrize('detach', [True, False])
def test_cca_cross_query_stop_gradient(detach):
    cca = ComplementaryContentAttention(
        in_channels=(32, 24), detach_cross_query=detach)
    feats = _feats(requires_grad=True)
    (cnn_local, cnn_global), (trans_local, trans_global) = feats
    y_cnn, y_trans = cca(feats)
    (y_cnn.sum() + y_trans.sum()).backward()
    # the own local features always get gradients
    assert cnn_local.grad is not None and cnn_local.grad.abs().sum() > 0
    assert trans_local.grad is not None and trans_local.grad.abs().sum() > 0
    for glob in (cnn_global, trans_global):
        if detach:
            assert glob.grad is None or not glob.grad.any()
        else:
            assert glob.grad is not None and glob.grad.abs().sum() > 0


def test_cca_rejects_wrong_width():
    cca = ComplementaryContentAttention(in_channels=(32, 24))
    with pytest.raises(ValueError, match='cnn local'):
        cca(_feats(c1=16))


@pytest.mark.parametrize('self_head,cross_head', [(True, True), (True, False),
                                                  (False, True)])
def test_cca_sdpa_matches_explicit_softmax(self_head, cross_head):
    """The fused-attention switch changes nothing but float rounding, in the
    outputs and in every gradient; asking for the maps still gives them."""
    torch.manual_seed(0)
    fused = ComplementaryContentAttention(
        in_channels=(32, 24), self_head=self_head, cross_head=cross_head,
        detach_cross_query=False, use_sdpa=True)
    explicit = ComplementaryContentAttention(
        in_channels=(32, 24), self_head=self_head, cross_head=cross_head,
        detach_cross_query=False, use_sdpa=False)
    explicit.load_state_dict(fused.state_dict())
    feats_a = _feats(requires_grad=True)
    feats_b = tuple(
        tuple(t.detach().clone().requires_grad_(True) for t in branch)
        for branch in feats_a)
    out_a, out_b = fused(feats_a), explicit(feats_b)
    for a, b in zip(out_a, out_b):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    (out_a[0].square().sum() + out_a[1].sum()).backward()
    (out_b[0].square().sum() + out_b[1].sum()).backward()
    for branch_a, branch_b in zip(feats_a, feats_b):
        for a, b in zip(branch_a, branch_b):
            torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-5)
    for (name, p_a), p_b in zip(fused.named_parameters(),
                                explicit.parameters()):
        torch.testing.assert_close(
            p_a.grad, p_b.grad, rtol=1e-4, atol=1e-5, msg=name)
    # the maps are computed (explicitly) whenever they are asked for
    (y_cnn, _), attn = fused(feats_a, return_attention=True)
    torch.testing.assert_close(y_cnn, out_b[0], rtol=1e-5, atol=1e-5)
    assert all(m.shape[0] == 6 for m in attn.values()) and attn


# Tab. VI: one head removed in ONE branch, (cnn, transformer) pairs
@pytest.mark.parametrize('self_head,cross_head,changed', [
    ((False, True), True, 'cnn'),
    ((True, False), True, 'trans'),
    (True, (False, True), 'cnn'),
    (True, (True, False), 'trans'),
])
def test_cca_head_removed_in_one_branch(self_head, cross_head, changed):
    torch.manual_seed(0)
    cca = ComplementaryContentAttention(
        in_channels=(32, 24), self_head=self_head, cross_head=cross_head)
    kept = 'cross' if self_head is not True else 'self'
    gone = 'self' if kept == 'cross' else 'cross'
    widths = dict(cnn=32, trans=24)
    feats = _feats()
    (y_cnn, y_trans), attn = cca(feats, return_attention=True)
    assert y_cnn.shape == (6, 32) and y_trans.shape == (6, 24)
    for name in ('cnn', 'trans'):
        branch = getattr(cca, f'{name}_branch')
        width = widths[name]
        if name == changed:
            # only the remaining head, its values mapped to the full C
            assert set(k for k in attn if k.startswith(name)) == {
                f'{name}_{kept}'}
            assert not hasattr(branch, f'v_{gone}')
            assert not hasattr(branch, f'q_{gone}')
            assert getattr(branch, f'v_{kept}').out_features == width
        else:
            # the other branch keeps both heads, C/2 values each
            assert {f'{name}_self', f'{name}_cross'} <= set(attn)
            assert branch.v_self.out_features == width // 2
            assert branch.v_cross.out_features == width // 2
    # the changed branch computes z = v_kept + qs, y = z + MLP(LN(z))
    (cnn_local, cnn_global), (trans_local, trans_global) = feats
    local, other = ((cnn_local, trans_global) if changed == 'cnn' else
                    (trans_local, cnn_global))
    branch = getattr(cca, f'{changed}_branch')
    qs = local.mean(dim=1)
    query = qs if kept == 'self' else other
    q = getattr(branch, f'q_{kept}')(query)
    k = getattr(branch, f'k_{kept}')(local)
    a = torch.softmax(
        torch.einsum('nc,nlc->nl', q, k) / branch.key_dims**0.5, dim=1)
    z = torch.einsum('nl,nlc->nc', a,
                     getattr(branch, f'v_{kept}')(local)) + qs
    expected = z + branch.mlp(branch.norm(z))
    torch.testing.assert_close(y_cnn if changed == 'cnn' else y_trans,
                               expected)
    # fewer parameters than the full CCA by the removed head's q, k, v
    full = ComplementaryContentAttention(in_channels=(32, 24))
    removed = sum(
        p.numel() for n, p in getattr(full, f'{changed}_branch')
        .named_parameters() if n.split('.')[0] in
        (f'q_{gone}', f'k_{gone}', f'v_{gone}'))
    # the kept value projection grows from C/2 to C outputs
    grown = widths[changed] * (widths[changed] - widths[changed] // 2)
    count = sum(p.numel() for p in cca.parameters())
    assert count == (sum(p.numel() for p in full.parameters()) - removed +
                     grown)


@pytest.mark.parametrize('kwargs,match', [
    (dict(self_head=(False, True), cross_head=(False, True)), 'CNN branch'),
    (dict(self_head=(True, False), cross_head=(True, False)),
     'transformer branch'),
    (dict(self_head=(True, )), 'pair of bools'),
    (dict(cross_head=(1, 0)), 'pair of bools'),
    (dict(self_head='cnn'), 'pair of bools'),
])
def test_cca_per_branch_switch_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ComplementaryContentAttention(in_channels=(32, 24), **kwargs)


def test_cca_per_branch_switch_from_config_list():
    # a config list works as well as a tuple; a bool means both branches
    cca = MODELS.build(
        dict(type='ComplementaryContentAttention', in_channels=(32, 24),
             self_head=[True, False], cross_head=True))
    assert cca.self_head == (True, False) and cca.cross_head == (True, True)
    assert cca.cnn_branch.self_head and not cca.trans_branch.self_head

import pytest
import torch

from mmdcct.registry import MODELS


@pytest.mark.parametrize('c1,c2', [(32, 24), (2048, 768)])
def test_sap_shapes_and_attention(c1, c2):
    sap = MODELS.build(
        dict(type='SpatialAttentionPooling', in_channels=(c1, c2)))
    feats = ((torch.randn(2, 8, c1), torch.randn(2, c1)),
             (torch.randn(2, 10, c2), torch.randn(2, c2)))
    y_cnn, y_trans = sap(feats)
    assert y_cnn.shape == (2, c1) and y_trans.shape == (2, c2)
    (y_cnn2, _), attn = sap(feats, return_attention=True)
    torch.testing.assert_close(y_cnn, y_cnn2)
    assert attn['cnn'].shape == (2, 8) and attn['trans'].shape == (2, 10)
    for value in attn.values():
        torch.testing.assert_close(value.sum(dim=1), torch.ones(2))
    # y is the attention-weighted mean of the local features
    torch.testing.assert_close(
        y_cnn, torch.einsum('nl,nlc->nc', attn['cnn'], feats[0][0]))

import pytest
import torch

from mmdcct.registry import MODELS


@pytest.mark.parametrize('pool', ['avg', 'last'])
def test_lstm_shapes(pool):
    neck = MODELS.build(
        dict(
            type='LSTMTemporalAggregation',
            in_channels=(32, 24),
            embed_dims=16,
            temporal_pool=pool))
    out = neck((torch.randn(3, 4, 32), torch.randn(3, 4, 24)))
    assert out.shape == (3, 32)


@pytest.mark.parametrize('detach', [True, False])
def test_lstm_detach_input(detach):
    neck = MODELS.build(
        dict(
            type='LSTMTemporalAggregation',
            in_channels=(32, 24),
            embed_dims=16,
            detach_input=detach))
    x = (torch.randn(2, 4, 32, requires_grad=True),
         torch.randn(2, 4, 24, requires_grad=True))
    neck(x).sum().backward()
    assert (x[0].grad is None) == detach


def test_lstm_num_frames_check():
    neck = MODELS.build(
        dict(
            type='LSTMTemporalAggregation',
            in_channels=(32, 24),
            embed_dims=16,
            num_frames=8))
    with pytest.raises(ValueError, match='num_frames=8'):
        neck((torch.randn(2, 4, 32), torch.randn(2, 4, 24)))

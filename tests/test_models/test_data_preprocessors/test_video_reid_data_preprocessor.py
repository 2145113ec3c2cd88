import pytest
import torch

from mmdcct.models.data_preprocessors import VideoReIDDataPreprocessor
from mmdcct.structures import VideoReIDDataSample


def test_stack_and_normalise():
    pre = VideoReIDDataPreprocessor(mean=(10, 20, 30), std=(2, 4, 5))
    inputs = [
        torch.randint(0, 255, (4, 3, 8, 6), dtype=torch.uint8)
        for _ in range(3)
    ]
    samples = [VideoReIDDataSample().set_gt_label(i) for i in range(3)]
    out = pre(dict(inputs=inputs, data_samples=samples))
    assert out['inputs'].shape == (3, 4, 3, 8, 6)
    assert out['inputs'].dtype == torch.float32
    expected = (inputs[1][2, 1].float() - 20) / 4
    assert torch.allclose(out['inputs'][1, 2, 1], expected)
    assert out['data_samples'][2].gt_label.item() == 2


def test_to_rgb_and_tensor_input():
    pre = VideoReIDDataPreprocessor(mean=(0, 0, 0), std=(1, 1, 1),
                                    to_rgb=True)
    x = torch.arange(3, dtype=torch.uint8).view(1, 1, 3, 1, 1)
    out = pre(dict(inputs=x))
    assert out['inputs'].flatten().tolist() == [2.0, 1.0, 0.0]


def test_variable_frame_counts_stay_a_list_in_testing_only():
    pre = VideoReIDDataPreprocessor(mean=(1, 1, 1), std=(2, 2, 2))
    inputs = [torch.full((8, 3, 4, 2), 5, dtype=torch.uint8),
              torch.full((16, 3, 4, 2), 7, dtype=torch.uint8)]
    out = pre(dict(inputs=inputs), training=False)
    assert [x.shape[0] for x in out['inputs']] == [8, 16]
    assert out['inputs'][0].unique().tolist() == [2.0]
    assert out['inputs'][1].unique().tolist() == [3.0]
    with pytest.raises(ValueError, match='same number of frames'):
        pre(dict(inputs=inputs), training=True)


def test_errors():
    pre = VideoReIDDataPreprocessor()
    with pytest.raises(ValueError, match=r'one \(3, H, W\) shape'):
        pre(dict(inputs=[torch.zeros(4, 3, 8, 6), torch.zeros(4, 3, 8, 5)]))
    with pytest.raises(ValueError, match=r'\(B, T, 3, H, W\)'):
        pre(dict(inputs=torch.zeros(2, 3, 8, 6)))
    with pytest.raises(ValueError, match='3 values'):
        VideoReIDDataPreprocessor(mean=(1, 2))

"""The cheap dropout mask: its rate, its scaling, and where it steps aside."""

import pytest
import torch
from torch import nn

from seqtag.models.dropout import Dropout, dropout, keep_mask


@pytest.mark.parametrize("p", [0.05, 0.25, 0.5, 0.9])
def test_mask_drops_a_share_p_and_keeps_the_expectation(p):
    torch.manual_seed(0)
    keep, scale = keep_mask(torch.Size([400_000]), p, torch.device("cpu"))
    assert keep.dtype == torch.bool and keep.shape == (400_000,)
    assert 1 - keep.float().mean().item() == pytest.approx(p, abs=0.004)
    assert scale == pytest.approx(1 / (1 - p), rel=1e-4)
    out = dropout(torch.full((400_000,), 3.0), p)
    assert out.unique().tolist() == [0.0, pytest.approx(3.0 * scale)]
    assert out.mean().item() == pytest.approx(3.0, rel=0.02)


def test_mask_has_no_pattern_across_lanes_and_positions():
    # three 16-bit draws per 64-bit word: each lane, and odd and even positions, drop alike
    torch.manual_seed(1)
    keep, _ = keep_mask(torch.Size([300_000]), 0.5, torch.device("cpu"))
    lanes = keep.view(-1, 3).float().mean(0)
    assert torch.allclose(lanes, torch.full((3,), 0.5), atol=0.01)
    assert keep[0::2].float().mean().item() == pytest.approx(0.5, abs=0.01)
    # neighbours independent: both kept a quarter of the time
    assert (keep[:-1] & keep[1:]).float().mean().item() == pytest.approx(0.25, abs=0.01)


def test_shapes_gradients_and_seeding():
    x = torch.randn(3, 7, 5, requires_grad=True)
    torch.manual_seed(2)
    out = dropout(x, 0.3)
    assert out.shape == x.shape
    out.sum().backward()
    kept = out.detach() != 0
    # gradient: the scale where kept, 0 where dropped
    assert torch.allclose(x.grad[kept], torch.full_like(x.grad[kept], 1 / 0.7), rtol=1e-4)
    assert (x.grad[~kept] == 0).all()
    torch.manual_seed(2)
    assert torch.equal(dropout(x, 0.3), out)  # the same seed, the same mask


def test_eval_and_zero_rate_are_the_identity_and_the_module_is_nn_dropout():
    x = torch.randn(4, 6)
    layer = Dropout(0.5)
    assert isinstance(layer, nn.Dropout) and layer.state_dict() == {}
    assert layer.eval()(x) is x
    assert dropout(x, 0.0) is x and dropout(x, 0.5, training=False) is x
    assert (dropout(x, 1.0) == 0).all()
    assert not torch.equal(layer.train()(x), x)

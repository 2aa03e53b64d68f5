"""The CPU path of RNNEncoder (each direction over the padded batch, the backward one on
sequences reversed within their lengths) must give exactly what a packed sequence gives."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqtag.models.encoders import RNNEncoder


def _packed(encoder: RNNEncoder, inputs: torch.Tensor, lengths: torch.Tensor):
    packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    output, state = encoder.rnn(packed)
    output, _ = pad_packed_sequence(output, batch_first=True, total_length=inputs.size(1))
    hidden = state[0] if encoder.cell == "lstm" else state
    return output, hidden


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("layers", [1, 2])
def test_reversal_path_equals_packing(cell: str, bidirectional: bool, layers: int):
    torch.manual_seed(0)
    encoder = RNNEncoder(5, cell=cell, hidden_size=4, num_layers=layers, bidirectional=bidirectional)
    encoder.eval()
    lengths = torch.tensor([6, 2, 4, 1, 6])
    inputs = torch.randn(5, 6, 5, requires_grad=True)

    output, final = encoder(inputs, lengths, return_final=True)
    expected, hidden = _packed(encoder, inputs, lengths)
    torch.testing.assert_close(output, expected, atol=1e-6, rtol=1e-5)
    last_layer = torch.cat(list(hidden[-(2 if bidirectional else 1):]), dim=-1)
    torch.testing.assert_close(final, last_layer, atol=1e-6, rtol=1e-5)

    # the same gradients reach the inputs and every weight
    weights = list(encoder.rnn.parameters())
    grads = torch.autograd.grad((output * torch.arange(output.numel()).view_as(output).sin()).sum(),
                                [inputs, *weights])
    expected_grads = torch.autograd.grad(
        (expected * torch.arange(expected.numel()).view_as(expected).sin()).sum(), [inputs, *weights])
    for got, want in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def test_padding_positions_are_zero_and_twins_hold_no_weights_of_their_own():
    encoder = RNNEncoder(3, hidden_size=4, num_layers=2)
    output = encoder(torch.randn(2, 5, 3), torch.tensor([5, 2]))
    assert torch.count_nonzero(output[1, 2:]) == 0
    assert all(name.startswith("rnn.") for name in encoder.state_dict())


def test_built_from_its_config_or_its_registered_name_alike():
    from seqtag.models.base import build
    from seqtag.registry import name_of

    assert name_of(RNNEncoder) == "rnn"
    by_target = build({"_target_": "seqtag.models.encoders.RNNEncoder", "cell": "gru", "hidden_size": 4},
                      input_size=5)
    by_name = build({"type": "rnn", "cell": "gru", "hidden_size": 4}, input_size=5)
    for encoder in (by_target, by_name):
        assert isinstance(encoder, RNNEncoder) and encoder.cell == "gru" and encoder.output_dim == 8
        assert encoder.rnn.input_size == 5  # the width the model completes the config with


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("lengths", [[6, 2, 4, 1, 6], [3, 3, 3], [4]], ids=["padded", "one-length", "single"])
def test_inference_paths_equal_packing(cell: str, bidirectional: bool, layers: int, lengths: list[int]):
    # without gradients: prepacked oneDNN LSTM weights, and no reversal for unpadded batches
    torch.manual_seed(1)
    encoder = RNNEncoder(5, cell=cell, hidden_size=4, num_layers=layers, bidirectional=bidirectional).eval()
    lengths = torch.tensor(lengths)
    inputs = torch.randn(len(lengths), int(lengths.max()), 5)
    with torch.inference_mode():
        output, final = encoder(inputs, lengths, return_final=True)
        expected, hidden = _packed(encoder, inputs, lengths)
    torch.testing.assert_close(output, expected, atol=1e-6, rtol=1e-5)
    last_layer = torch.cat(list(hidden[-(2 if bidirectional else 1):]), dim=-1)
    torch.testing.assert_close(final, last_layer, atol=1e-6, rtol=1e-5)


def test_prepacked_lstm_weights_follow_weight_changes_and_bf16():
    from seqtag.models import onednn_lstm

    torch.manual_seed(2)
    encoder = RNNEncoder(5, hidden_size=8).eval()
    lengths = torch.tensor([5, 3])
    inputs = torch.randn(2, 5, 5)
    with torch.no_grad():
        assert onednn_lstm.usable(inputs) == onednn_lstm.available()
        before = encoder(inputs, lengths)
        encoder.rnn.weight_hh_l0_reverse.mul_(-1.0)  # as an optimizer step would, in place
        after = encoder(inputs, lengths)
        expected, _ = _packed(encoder, inputs, lengths)
        torch.testing.assert_close(after, expected, atol=1e-6, rtol=1e-5)
        assert not torch.allclose(before[..., 8:], after[..., 8:])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = encoder(inputs, lengths)
    assert not onednn_lstm.usable(inputs)  # gradients on: oneDNN's backward wants plain weights
    torch.testing.assert_close(low.float(), expected, atol=0.05, rtol=0.05)


def test_prepacked_weights_are_renewed_after_training_steps():
    # fused Adam changes the weights without bumping their version counters: validation
    # after an epoch must still see the new weights
    torch.manual_seed(3)
    encoder = RNNEncoder(5, hidden_size=8)
    lengths = torch.tensor([5, 3])
    inputs = torch.randn(2, 5, 5)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=0.1, fused=True)
    for _ in range(2):
        encoder.train()
        optimizer.zero_grad()
        encoder(inputs, lengths).sum().backward()
        optimizer.step()
        encoder.eval()
        with torch.inference_mode():
            output = encoder(inputs, lengths)
            expected, _ = _packed(encoder, inputs, lengths)
        torch.testing.assert_close(output, expected, atol=1e-6, rtol=1e-5)

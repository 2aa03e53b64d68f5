"""Recurrent encoders that keep padding out of the recurrence: packed sequences (cuDNN
kernels on GPU through ``nn.LSTM``), or, when training on CPU, reversal within each
sequence's length."""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqtag.models import onednn_lstm
from seqtag.models.dropout import Dropout, dropout
from seqtag.registry import register

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
MERGES = ("concat", "sum", "mul", "ave")


@register("part", "rnn")
class RNNEncoder(nn.Module):
    """A stacked (bi)LSTM/GRU/RNN; padding never enters the recurrence.

    ``dropout`` applies between layers (as ``nn.LSTM`` does) and to the output.
    ``merge`` combines the two directions of a bidirectional encoder as Keras'
    ``Bidirectional(merge_mode=...)`` does: ``concat`` (2H wide), ``sum``, ``mul``
    or ``ave`` (H wide). ``pack=False`` runs the recurrence over the padding too
    (zero vectors), as a Keras layer without masking does, so the states after a
    document's end carry its final state forward; the final state is then the
    one after the last (padded) position. ``init="keras"`` initialises as Keras'
    recurrent layers do (Glorot-uniform input weights, orthogonal recurrent weights
    per gate, zero biases, LSTM forget-gate bias 1) instead of PyTorch's uniform
    +-1/sqrt(hidden).

    On CPU a packed sequence is slow: PyTorch's backward pass through it costs time
    quadratic in the sequence length (4.0 s against 0.26 s a step for 64 sequences of
    up to 400 tokens, ``benchmarks/lstm_packing.py``), and even without gradients it
    misses oneDNN's LSTM kernel, which only takes padded batches. So on CPU the encoder
    runs each direction over the padded batch instead, the backward one on every
    sequence reversed within its own length, which gives the packed result exactly.
    A batch without padding (all of one length, as a single sentence is) needs neither:
    it runs the whole ``nn.LSTM`` at once, on CPU and GPU alike.
    """

    def __init__(
        self, input_size: int, cell: str = "lstm", hidden_size: int = 200, num_layers: int = 1,
        bidirectional: bool = True, dropout: float = 0.0, merge: str = "concat", pack: bool = True,
        init: str = "torch",
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if merge not in MERGES:
            raise ValueError(f"merge must be one of {MERGES}, got {merge!r}")
        self.rnn = CELLS[cell](
            input_size, hidden_size, num_layers=num_layers, batch_first=True,
            bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0,
        )
        self.cell = cell
        self.bidirectional = bidirectional
        self.merge = merge
        self.pack = pack
        if init not in ("torch", "keras"):
            raise ValueError(f"init must be 'torch' or 'keras', got {init!r}")
        if init == "keras":
            self._keras_init(hidden_size)
        self.dropout = Dropout(dropout)
        self.layer_dropout = dropout if num_layers > 1 else 0.0
        # one-direction, one-layer twins that run with self.rnn's weights (not registered:
        # the weights live in self.rnn only, so checkpoints and cuDNN see one module)
        self._twins = [CELLS[cell](input_size if layer == 0 else hidden_size * (2 if bidirectional else 1),
                                   hidden_size, batch_first=True) for layer in range(num_layers)]
        self.output_dim = hidden_size * (2 if bidirectional and merge == "concat" else 1)

    def train(self, mode: bool = True) -> RNNEncoder:
        onednn_lstm.forget(self.rnn)  # the weights may have moved since they were packed
        return super().train(mode)

    def _keras_init(self, hidden: int) -> None:
        for name, param in self.rnn.named_parameters():
            if name.startswith("weight_ih"):
                for gate in param.data.split(hidden):
                    nn.init.xavier_uniform_(gate)
            elif name.startswith("weight_hh"):
                for gate in param.data.split(hidden):
                    nn.init.orthogonal_(gate)
            else:
                nn.init.zeros_(param.data)
                # PyTorch adds two bias vectors; Keras' one forget bias of 1 goes in one of them
                if self.cell == "lstm" and name.startswith("bias_ih"):
                    param.data[hidden : 2 * hidden] = 1.0

    def _merge(self, forward: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
        if self.merge == "concat":
            return torch.cat([forward, backward], dim=-1)
        if self.merge == "sum":
            return forward + backward
        if self.merge == "mul":
            return forward * backward
        return (forward + backward) / 2

    def forward(
        self, inputs: torch.Tensor, lengths: torch.Tensor, return_final: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Outputs (B, T, output_dim); with ``return_final`` also the last layer's final
        state (B, output_dim): the forward direction after the last real token, the
        backward direction after the first."""
        # lengths live on the CPU (the collator's), so asking them costs no device sync
        unpadded = lengths.device.type == "cpu" and int(lengths.min()) == inputs.size(1)
        prepacked = self.cell == "lstm" and onednn_lstm.usable(inputs)
        if self.pack and (prepacked or not unpadded) and inputs.device.type == "cpu":
            output, final = self._by_reversal(inputs, lengths)
        else:
            if self.pack and not unpadded:
                packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
                output, state = self.rnn(packed)
                output, _ = pad_packed_sequence(output, batch_first=True, total_length=inputs.size(1))
            else:
                output, state = self.rnn(inputs)
            hidden = state[0] if self.cell == "lstm" else state  # (layers * directions, B, H)
            final = (hidden[-2], hidden[-1]) if self.bidirectional else (hidden[-1],)
        if self.bidirectional and self.merge != "concat":
            output = self._merge(*output.chunk(2, dim=-1))
        output = self.dropout(output)
        if not return_final:
            return output
        return output, self.dropout(self._merge(*final) if self.bidirectional else final[0])

    def _by_reversal(
        self, inputs: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """What the packed run gives: outputs (B, T, directions * H), zero past each
        length, and the last layer's final state per direction (B, H)."""
        steps = torch.arange(inputs.size(1), device=inputs.device)
        lengths = lengths.to(inputs.device)
        real = steps < lengths[:, None]
        # position t of a sequence of length n reads position n-1-t; padding stays put
        order = torch.where(real, lengths[:, None] - 1 - steps, steps)

        def reverse(x: torch.Tensor) -> torch.Tensor:
            return x.gather(1, order[:, :, None].expand_as(x))

        last = (lengths - 1).clamp(min=0)[:, None, None]
        layer_input = inputs
        for layer, twin in enumerate(self._twins):
            if layer > 0 and self.layer_dropout:
                layer_input = dropout(layer_input, self.layer_dropout, self.training)
            forward = self._direction(twin, layer, "", layer_input)
            directions = [forward]
            if self.bidirectional:
                directions.append(reverse(self._direction(twin, layer, "_reverse", reverse(layer_input))))
            layer_input = torch.cat(directions, dim=-1) if self.bidirectional else forward
        padding = ~real[:, :, None]
        # in place only on the concatenation's fresh tensor: an LSTM's own output is kept for backward
        if self.bidirectional:
            output = layer_input.masked_fill_(padding, 0.0)
        else:
            output = forward.masked_fill(padding, 0.0)
        final = [forward.gather(1, last.expand(-1, 1, forward.size(-1))).squeeze(1)]
        if self.bidirectional:
            final.append(directions[1][:, 0])
        return output, tuple(final)

    def _direction(self, twin: nn.Module, layer: int, suffix: str, inputs: torch.Tensor) -> torch.Tensor:
        """One direction of one layer, left to right over ``inputs`` (B, T, I)."""
        if self.cell == "lstm" and onednn_lstm.usable(inputs):
            return onednn_lstm.run(self.rnn, layer, suffix, inputs)
        output, _ = functional_call(twin, self._weights(layer, suffix), (inputs,))
        return output

    def _weights(self, layer: int, suffix: str) -> dict[str, torch.Tensor]:
        return {f"{name}_l0": getattr(self.rnn, f"{name}_l{layer}{suffix}")
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}

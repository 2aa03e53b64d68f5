"""Recurrent encoders over packed sequences (cuDNN kernels on GPU through ``nn.LSTM``)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
MERGES = ("concat", "sum", "mul", "ave")


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
        self.dropout = nn.Dropout(dropout)
        self.output_dim = hidden_size * (2 if bidirectional and merge == "concat" else 1)

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
        if self.pack:
            packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
            output, state = self.rnn(packed)
            output, _ = pad_packed_sequence(output, batch_first=True, total_length=inputs.size(1))
        else:
            output, state = self.rnn(inputs)
        if self.bidirectional:
            output = self._merge(*output.chunk(2, dim=-1))
        output = self.dropout(output)
        if not return_final:
            return output
        hidden = state[0] if self.cell == "lstm" else state  # (layers * directions, B, H)
        final = self._merge(hidden[-2], hidden[-1]) if self.bidirectional else hidden[-1]
        return output, self.dropout(final)

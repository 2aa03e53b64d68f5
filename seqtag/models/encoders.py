"""Recurrent encoders over packed sequences (cuDNN kernels on GPU through ``nn.LSTM``)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class RNNEncoder(nn.Module):
    """A stacked (bi)LSTM/GRU/RNN; padding never enters the recurrence.

    ``dropout`` applies between layers (as ``nn.LSTM`` does) and to the output.
    """

    def __init__(
        self, input_size: int, cell: str = "lstm", hidden_size: int = 200, num_layers: int = 1,
        bidirectional: bool = True, dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.rnn = CELLS[cell](
            input_size, hidden_size, num_layers=num_layers, batch_first=True,
            bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.output_dim = hidden_size * (2 if bidirectional else 1)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        output, _ = self.rnn(packed)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=inputs.size(1))
        return self.dropout(output)

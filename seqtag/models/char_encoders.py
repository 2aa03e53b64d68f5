"""Character-level word features: a CNN with max-pooling (Ma & Hovy, 2016) or a
BiLSTM over characters (Lample et al., 2016). Input (B, T, W) character indices,
output (B, T, output_dim), one vector per word.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from seqtag.registry import register


@register("part", "char_cnn")
class CharCNN(nn.Module):
    """Character embeddings -> dropout -> 1-D convolution -> max over the word's characters."""

    def __init__(
        self, num_chars: int, dim: int = 30, filters: int = 50, kernel_size: int = 3, dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.conv = nn.Conv1d(dim, filters, kernel_size, padding=kernel_size // 2)
        self.output_dim = filters

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        batch, words, width = chars.shape
        flat = chars.reshape(batch * words, width)
        hidden = self.conv(self.dropout(self.embedding(flat)).transpose(1, 2))  # (N, F, W)
        hidden = hidden.masked_fill((flat == 0).unsqueeze(1), float("-inf"))
        pooled = hidden.max(dim=2).values
        # padding words have no characters: their -inf maximum becomes 0
        pooled = pooled.masked_fill(torch.isinf(pooled), 0.0)
        return pooled.reshape(batch, words, -1)


@register("part", "char_lstm")
class CharLSTM(nn.Module):
    """Character embeddings -> BiLSTM; the word vector joins both directions' final states."""

    def __init__(self, num_chars: int, dim: int = 25, hidden_size: int = 25, dropout: float = 0.5) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(dim, hidden_size, batch_first=True, bidirectional=True)
        self.output_dim = 2 * hidden_size

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        batch, words, width = chars.shape
        flat = chars.reshape(batch * words, width)
        lengths = (flat != 0).sum(1)
        # lengths stay on the device for the mask; packing needs a CPU copy
        packed = pack_padded_sequence(
            self.dropout(self.embedding(flat)), lengths.clamp(min=1).cpu(), batch_first=True,
            enforce_sorted=False,
        )
        _, (final, _) = self.lstm(packed)
        states = torch.cat([final[0], final[1]], dim=-1)
        states = states.masked_fill((lengths == 0).unsqueeze(1), 0.0)
        return states.reshape(batch, words, -1)

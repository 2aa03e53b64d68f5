"""Character-level word features: a CNN with max-pooling (Ma & Hovy, 2016) or a
BiLSTM over characters (Lample et al., 2016). Output (B, T, output_dim), one vector
per word, from either (B, T, W) character indices, or each token's row (B, T) in a
table of the batch's distinct words' characters (U, W), as the collator gives them
(:func:`seqtag.batch.distinct_rows`): then each distinct word is encoded once.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from seqtag.models.dropout import Dropout
from seqtag.registry import register


@register("part", "char_cnn")
class CharCNN(nn.Module):
    """Character embeddings -> dropout -> 1-D convolution -> max over the word's characters."""

    def __init__(
        self, num_chars: int, dim: int = 30, filters: int = 50, kernel_size: int = 3, dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, dim, padding_idx=0)
        self.dropout = Dropout(dropout)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (a window centred on a character), not {kernel_size}")
        self.conv = nn.Conv1d(dim, filters, kernel_size, padding=kernel_size // 2)
        self.output_dim = filters

    def forward(self, chars: torch.Tensor, table: torch.Tensor | None = None) -> torch.Tensor:
        return _per_token(self.encode, chars, table)

    def encode(self, flat: torch.Tensor) -> torch.Tensor:
        """(N, W) words' characters -> (N, output_dim); a word without characters gives 0."""
        # The convolution as one matrix product over each position's window of characters
        # (the weights stay nn.Conv1d's): oneDNN's convolution builds a kernel for each new
        # input shape, and a batch's words give a new shape nearly every step (0.5 ms a
        # call on CPU against 0.08 ms for a shape seen before).
        width = self.conv.kernel_size[0]
        embedded = F.pad(self.dropout(self.embedding(flat)), (0, 0, width // 2, width // 2))
        windows = embedded.unfold(1, width, 1)  # (N, W, dim, width)
        hidden = F.linear(windows.reshape(*windows.shape[:2], -1),
                          self.conv.weight.reshape(self.conv.out_channels, -1), self.conv.bias)  # (N, W, F)
        hidden = hidden.masked_fill((flat == 0).unsqueeze(2), float("-inf"))
        pooled = hidden.max(dim=1).values
        # padding words have no characters: their -inf maximum becomes 0
        return pooled.masked_fill(torch.isinf(pooled), 0.0)


@register("part", "char_lstm")
class CharLSTM(nn.Module):
    """Character embeddings -> BiLSTM; the word vector joins both directions' final states."""

    def __init__(self, num_chars: int, dim: int = 25, hidden_size: int = 25, dropout: float = 0.5) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, dim, padding_idx=0)
        self.dropout = Dropout(dropout)
        self.lstm = nn.LSTM(dim, hidden_size, batch_first=True, bidirectional=True)
        self.output_dim = 2 * hidden_size

    def forward(self, chars: torch.Tensor, table: torch.Tensor | None = None) -> torch.Tensor:
        return _per_token(self.encode, chars, table)

    def encode(self, flat: torch.Tensor) -> torch.Tensor:
        """(N, W) words' characters -> (N, output_dim); a word without characters gives 0."""
        lengths = (flat != 0).sum(1)
        # lengths stay on the device for the mask; packing needs a CPU copy
        packed = pack_padded_sequence(
            self.dropout(self.embedding(flat)), lengths.clamp(min=1).cpu(), batch_first=True,
            enforce_sorted=False,
        )
        _, (final, _) = self.lstm(packed)
        states = torch.cat([final[0], final[1]], dim=-1)
        return states.masked_fill((lengths == 0).unsqueeze(1), 0.0)


def _per_token(encode: Callable[[torch.Tensor], torch.Tensor], chars: torch.Tensor,
               table: torch.Tensor | None) -> torch.Tensor:
    if table is not None:
        return encode(table)[chars]
    batch, words, width = chars.shape
    return encode(chars.reshape(batch * words, width)).reshape(batch, words, -1)

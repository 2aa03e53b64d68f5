"""One LSTM direction through oneDNN with its weights packed once, for inference on CPU.

``nn.LSTM`` on CPU runs oneDNN's kernel, but hands it the weights in PyTorch's layout,
so every call first reorders them into oneDNN's: for the preset's BiLSTM (2 x 200
units over 110 inputs) that costs about 0.25 ms a direction, more than the whole
recurrence of a short sentence. Here the reordered weights are made once and kept
(until the module's mode changes, :func:`forget`, or a weight is changed in place),
as ``torch.compile`` does with ``freezing`` on, and the
layer is called through the same ATen operator ``nn.LSTM`` itself reaches
(``aten::mkldnn_rnn_layer``). Only where gradients are off: oneDNN's backward
needs the weights as they are. Under CPU autocast to bfloat16 the layer runs in
bfloat16 (oneDNN's AVX-512 BF16 kernel), its biases in float32.

The operators are internal to PyTorch; :func:`usable` checks that they exist, so
another PyTorch falls back to the usual path.
"""

from __future__ import annotations

import weakref

import torch
from torch import nn

_LSTM = 2  # oneDNN's code for the LSTM cell (ideep::rnn_kind::LSTM)
# packed weights per nn.LSTM, outside the module: oneDNN tensors cannot be pickled or copied
_PACKED: weakref.WeakKeyDictionary[nn.Module, dict] = weakref.WeakKeyDictionary()


def available() -> bool:
    return (torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, "_reorder_mkldnn_rnn_layer_weight")
            and hasattr(torch.ops.aten, "mkldnn_rnn_layer"))


_AVAILABLE = available()


def _dtype(inputs: torch.Tensor) -> torch.dtype | None:
    if torch.is_autocast_enabled("cpu"):
        return torch.bfloat16 if torch.get_autocast_dtype("cpu") == torch.bfloat16 else None
    return inputs.dtype if inputs.dtype in (torch.float32, torch.bfloat16) else None


def usable(inputs: torch.Tensor) -> bool:
    """Whether :func:`run` applies: CPU, no gradients, float32 or bfloat16, oneDNN on."""
    return (_AVAILABLE and inputs.device.type == "cpu" and not torch.is_grad_enabled()
            and torch.backends.mkldnn.enabled and _dtype(inputs) is not None)


def forget(lstm: nn.Module) -> None:
    """Drop ``lstm``'s packed weights. Called whenever the encoder switches between
    training and evaluation: optimizer steps in between may not mark the weights as
    changed (fused Adam leaves their version counters as they were)."""
    _PACKED.pop(lstm, None)


def _packed(lstm: nn.LSTM, layer: int, suffix: str, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    names = [f"{name}_l{layer}{suffix}" for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    params = [getattr(lstm, name) for name in names]
    # a weight changed in place (an optimizer step) bumps its version: pack again
    stamp = tuple((p.data_ptr(), p._version) for p in params)
    cache = _PACKED.setdefault(lstm, {})
    found = cache.get((layer, suffix, dtype))
    if found is None or found[0] != stamp:
        weight_ih, weight_hh = (p.detach().to(dtype) for p in params[:2])
        packed = torch.ops.mkldnn._reorder_mkldnn_rnn_layer_weight(
            weight_ih, weight_hh, lstm.hidden_size, False, True, False)
        found = cache[(layer, suffix, dtype)] = (stamp, *packed, *(p.detach().float() for p in params[2:]))
    return found[1:]


def run(lstm: nn.LSTM, layer: int, suffix: str, inputs: torch.Tensor) -> torch.Tensor:
    """The outputs (B, T, H) of one direction (``suffix`` ``""`` or ``"_reverse"``) of one
    layer of ``lstm``, run left to right over ``inputs`` (B, T, I) from zero states."""
    dtype = _dtype(inputs)
    weight_ih, weight_hh, bias_ih, bias_hh = _packed(lstm, layer, suffix, dtype)
    batch, hidden = inputs.size(0), lstm.hidden_size
    zeros = inputs.new_zeros(1, batch, hidden, dtype=dtype)
    with torch.autocast("cpu", enabled=False):
        # time-major, as nn.LSTM hands it over (the operator's batch_first flag is not used there)
        output = torch.ops.aten.mkldnn_rnn_layer(
            inputs.to(dtype).transpose(0, 1).contiguous(), weight_ih, weight_hh, bias_ih, bias_hh,
            zeros, zeros.float(), False, [], _LSTM, hidden, 1, True, False, False, False)[0]
    return output.transpose(0, 1)

"""Training-step time of a BiLSTM on CPU: packed sequences against RNNEncoder's CPU path.

    python benchmarks/lstm_packing.py [--threads 2] [--lengths 25 100 400 800]

Both run the same weights over the same batch (lengths drawn between half and all of
T), forward and backward; the script checks they agree and prints the median seconds.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqtag.models.encoders import RNNEncoder


def packed_step(encoder: RNNEncoder, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    output, _ = encoder.rnn(packed)
    return pad_packed_sequence(output, batch_first=True, total_length=inputs.size(1))[0]


def timed(step, repeats: int) -> tuple[float, torch.Tensor]:
    times, output = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        output = step()
        output.amax(1).sum().backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times), output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--lengths", type=int, nargs="+", default=[25, 100, 400, 800])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    encoder = RNNEncoder(args.dim, hidden_size=args.hidden)
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}, "
          f"BiLSTM {args.hidden} per direction, {args.dim}-d inputs")
    print("| T | packed s/step | by reversal s/step | speed-up |")
    print("| --- | --- | --- | --- |")
    for length in args.lengths:
        lengths = torch.randint(length // 2, length + 1, (args.batch,))
        lengths[0] = length
        inputs = torch.randn(args.batch, length, args.dim, requires_grad=True)
        packed, expected = timed(lambda: packed_step(encoder, inputs, lengths), args.repeats)  # noqa: B023
        ours, output = timed(lambda: encoder(inputs, lengths), args.repeats)  # noqa: B023
        torch.testing.assert_close(output, expected, atol=1e-5, rtol=1e-4)
        print(f"| {length} | {packed:.3f} | {ours:.3f} | {packed / ours:.1f}x |", flush=True)


if __name__ == "__main__":
    main()

"""What seqtag-eval and seqtag-predict share: the model options and clean exits."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from seqtag.errors import SeqtagError


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="bf16: bfloat16 matrix products (faster on CPUs with AVX-512 BF16 or AMX)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(prog: str, command: Callable[[argparse.Namespace], object], args: argparse.Namespace) -> None:
    """Run a command; bad input ends it with one line naming the problem, not a traceback."""
    try:
        command(args)
    except SeqtagError as err:
        raise SystemExit(f"{prog}: {err}") from None
    except BrokenPipeError:  # output piped into e.g. head, which stopped reading
        sys.stderr.close()

"""Options shared by the training subcommands: time budget, devices, precision, overrides."""

from __future__ import annotations

import argparse
import math

from data_pipelines.errors import UsageError

# Exit codes after a clean stop requested by a signal (128 + signal number, as shells report).
SIGNAL_EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}


def add_run_options(parser: argparse.ArgumentParser, minutes_help: str, set_help: str) -> None:
    """Add ``--minutes``, ``--strategy``, ``--precision``, ``--set`` and ``--no-progress``."""
    parser.add_argument("--minutes", type=float, help=minutes_help)
    parser.add_argument("--strategy", default="auto",
                        help="auto, cpu, mirrored, multiworker (TF_CONFIG) or tpu (default auto)")
    parser.add_argument("--precision", default="auto",
                        help="auto, float32, mixed_bfloat16 or mixed_float16 (default auto: "
                             "mixed_bfloat16 on a CPU with AVX512_BF16 or AMX, else float32)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help=set_help)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def check_run_options(args: argparse.Namespace, *step_options: str) -> None:
    """Raise UsageError for an unknown strategy or precision, a bad budget or negative steps."""
    from musicvae_tf.training.precision import PRECISIONS
    from musicvae_tf.training.strategy import STRATEGIES

    if args.strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {args.strategy!r}; choose one of: "
                         f"{', '.join(STRATEGIES)}")
    if args.precision not in PRECISIONS:
        raise UsageError(f"unknown precision {args.precision!r}; choose one of: "
                         f"{', '.join(PRECISIONS)}")
    for name in step_options:
        value = getattr(args, name)
        if value is not None and value < 0:
            raise UsageError(f"--{name.replace('_', '-')} must be >= 0, got {value}")
    if args.minutes is not None and not (math.isfinite(args.minutes) and args.minutes > 0):
        raise UsageError(f"--minutes must be a positive number, got {args.minutes}")

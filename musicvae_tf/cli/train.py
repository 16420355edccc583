"""``musicvae-tf train``: train (or resume) a model on prepared data, as its config's family trains."""

from __future__ import annotations

import argparse
from pathlib import Path

from musicvae_tf.cli.run_options import add_run_options, check_run_options
from musicvae_tf.cli.training_lock import command_lock
from data_pipelines.errors import UsageError

HELP = ("train or resume a model (MusicVAE, or the family its config names) on prepared data "
        "(checkpoints, TensorBoard, model.keras)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``train``."""
    parser.add_argument("--config", help="config name or YAML path (default: the run dir's "
                        "config.yaml when resuming)")
    parser.add_argument("--data", required=True, help="folder written by musicvae-tf prepare")
    parser.add_argument("--run-dir", required=True, help="output folder; rerun to resume")
    parser.add_argument("--steps", type=int, help="train until this global step "
                        "(default: training.num_steps)")
    add_run_options(parser, minutes_help="stop cleanly after this many minutes "
                    "(whichever comes first with --steps)",
                    set_help="override a config field (repeatable)")


def run(args: argparse.Namespace) -> int:
    """Validate arguments, then train; returns the exit code."""
    from data_pipelines.data_dir import check_prepared_data
    from musicvae_tf.cli.output_paths import check_output_dir
    from musicvae_tf.config import load_config
    from musicvae_tf.training.run_files import read_run_config

    check_run_options(args, "steps")
    run_dir = check_output_dir(args.run_dir, "--run-dir")
    if args.config:
        config = load_config(args.config, args.set)
    else:
        saved = read_run_config(run_dir)
        if saved is None:
            raise UsageError(f"--config is required ({run_dir} has no config.yaml to resume)")
        config = saved.with_overrides(args.set)
    check_prepared_data(args.data, config.data, "train")
    with command_lock(args, run_dir):
        return _train(args, config, run_dir)


def _train(args: argparse.Namespace, config, run_dir: Path) -> int:
    from musicvae_tf.models.registry import family_hooks

    return family_hooks(config.family).train(
        config, args.data, run_dir, steps=args.steps, strategy_name=args.strategy,
        precision=args.precision, minutes=args.minutes, progress=not args.no_progress)

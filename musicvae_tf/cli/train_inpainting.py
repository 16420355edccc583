"""``musicvae-tf train-inpainting``: train the measure VAE, then the latent RNN (both resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path

from musicvae_tf.cli.run_options import add_run_options, check_run_options
from musicvae_tf.cli.training_lock import command_lock

HELP = "train an inpainting model: measure VAE (stage 1) then latent RNN (stage 2)"

STAGES = ("both", "measure-vae", "latent-rnn")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``train-inpainting``."""
    parser.add_argument("--config", default="inpaint-latent-rnn",
                        help="inpainting config name or YAML (default inpaint-latent-rnn; "
                        "inpaint-latent-rnn-demo for CPU)")
    parser.add_argument("--data", required=True,
                        help="16-bar windows from `musicvae-tf prepare --config <the same config>`")
    parser.add_argument("--run-dir", required=True,
                        help="latent-RNN run dir; the measure VAE goes to RUN_DIR/measure_vae")
    parser.add_argument("--stage", choices=STAGES, default="both", help="which stage(s) to train")
    parser.add_argument("--measure-vae-run", metavar="DIR",
                        help="use (and, for --stage both/measure-vae, train) this measure VAE run dir")
    parser.add_argument("--measure-steps", type=int,
                        help="measure VAE: train until this global step (default: its config)")
    parser.add_argument("--steps", type=int,
                        help="latent RNN: train until this global step (default: its config)")
    add_run_options(parser, minutes_help="wall-clock budget per stage",
                    set_help="override a field of the inpainting config (repeatable)")
    parser.add_argument("--measure-set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a field of the measure VAE config (repeatable)")


def run(args: argparse.Namespace) -> int:
    """Validate arguments, then run the requested stages."""
    from musicvae_tf.config import load_config
    from musicvae_tf.models.inpainting.config import LatentRNNSettings
    from musicvae_tf.models.inpainting.measure_vae import measure_vae_config
    from musicvae_tf.models.inpainting.training import MEASURE_VAE_DIR
    from data_pipelines.data_dir import check_prepared_data
    from musicvae_tf.cli.output_paths import check_output_dir

    check_run_options(args, "steps", "measure_steps")
    config = load_config(args.config, args.set)
    LatentRNNSettings.from_config(config)
    measure_vae_config(config, args.measure_set)  # a bad measure VAE config fails before work
    check_prepared_data(args.data, config.data, "train")
    run_dir = check_output_dir(args.run_dir, "--run-dir")
    measure_run = (check_output_dir(args.measure_vae_run, "--measure-vae-run")
                   if args.measure_vae_run else run_dir / MEASURE_VAE_DIR)
    with command_lock(args, run_dir):
        return _train_stages(args, config, run_dir, measure_run)


def _train_stages(args: argparse.Namespace, config, run_dir: Path, measure_run: Path) -> int:
    from musicvae_tf.models.inpainting.family import train

    return train(config, args.data, run_dir, steps=args.steps, measure_steps=args.measure_steps,
                 measure_overrides=args.measure_set, measure_run=measure_run, stage=args.stage,
                 strategy_name=args.strategy, precision=args.precision, minutes=args.minutes,
                 progress=not args.no_progress)

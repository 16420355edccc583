"""``musicvae-tf export-magenta``: a model of this package as a TF1 checkpoint with Magenta's names."""

from __future__ import annotations

import argparse

from musicvae_tf.cli import generation_args as common

HELP = "export a model as a Magenta TF1 checkpoint (for Magenta's and magenta-js's tools)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``export-magenta``."""
    common.add_model_argument(parser)
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for model.ckpt.index/.data and the `checkpoint` file")


def run(args: argparse.Namespace) -> int:
    """Export and report the checkpoint prefix."""
    from musicvae_tf.cli.output_paths import check_output_dir
    from musicvae_tf.models.music_vae.magenta_export import write_magenta_checkpoint
    from musicvae_tf.trained_model import TrainedModel

    check_output_dir(args.out)
    model = TrainedModel.load(args.model)
    prefix = write_magenta_checkpoint(model.model, args.out)
    print(f"wrote {prefix} (config {model.config.name}, {model.model.count_params():,} parameters)")
    return 0

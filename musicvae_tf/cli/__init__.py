"""The ``musicvae-tf`` command: one subcommand per module in this package.

Each subcommand module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Modules import TensorFlow inside ``run`` so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from musicvae_tf.errors import MusicVAEError

# Subcommand name -> module. Order is the order shown in --help.
COMMANDS = {
    "prepare": "musicvae_tf.cli.prepare",
    "train": "musicvae_tf.cli.train",
    "evaluate": "musicvae_tf.cli.evaluate",
    "sample": "musicvae_tf.cli.sample",
    "interpolate": "musicvae_tf.cli.interpolate",
    "encode": "musicvae_tf.cli.encode",
    "attributes": "musicvae_tf.cli.attributes",
    "stats": "musicvae_tf.cli.stats",
    "train-inpainting": "musicvae_tf.cli.train_inpainting",
    "evaluate-inpainting": "musicvae_tf.cli.evaluate_inpainting",
    "inpaint": "musicvae_tf.cli.inpaint",
    "import-magenta": "musicvae_tf.cli.import_magenta",
    "export-magenta": "musicvae_tf.cli.export_magenta",
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="musicvae-tf",
        description="MusicVAE on TensorFlow 2 + Keras 3: prepare data, train, sample, "
        "interpolate and inpaint melodies.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse arguments, run the subcommand, turn known errors into one line."""
    # TensorFlow's C++ logging otherwise prints CUDA probing errors on every CPU-only run;
    # real failures still surface as Python exceptions. Set the variable yourself to see them.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except MusicVAEError as exc:
        print(f"musicvae-tf {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"musicvae-tf {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

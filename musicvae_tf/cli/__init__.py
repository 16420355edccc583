"""The ``musicvae-tf`` command: one subcommand per module in this package.

Each subcommand module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Modules import TensorFlow inside ``run`` so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from musicvae_tf.cli.quiet_tensorflow import silence_tensorflow_startup
from data_pipelines.errors import MusicVAEError, describe_os_error

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
    "serve": "musicvae_tf.cli.serve",
    "import-magenta": "musicvae_tf.cli.import_magenta",
    "export-magenta": "musicvae_tf.cli.export_magenta",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (exit 2), like the commands' own."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level argument parser with every registered subcommand."""
    parser = _Parser(
        prog="musicvae-tf",
        description="MusicVAE on TensorFlow 2 + Keras 3: prepare data, train, sample, "
        "interpolate and inpaint melodies. Exit codes: 0 done, 1 bad input or a failed read/write "
        "(missing or unreadable file, full disk, busy run dir), 2 wrong usage (options, --set).",
    )
    verbose_help = "show TensorFlow's start-up and info logging (hidden by default)"
    parser.add_argument("--verbose", action="store_true", help=verbose_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                             help=verbose_help)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse arguments, run the subcommand, turn known errors into one line.

    Exit codes: 1 for bad input and failed reads or writes (``MusicVAEError``, ``OSError`` such as
    a full disk or an unwritable folder), 2 for wrong usage (``UsageError``, argparse errors).
    """
    args = build_parser().parse_args(argv)
    if not args.verbose:
        silence_tensorflow_startup()
    try:
        return int(args._run(args) or 0)
    except MusicVAEError as exc:
        return _fail(args.command, str(exc), exc.exit_code)
    except OSError as exc:
        return _fail(args.command, describe_os_error(exc), 1)
    except KeyboardInterrupt:
        print(f"musicvae-tf {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if not _is_tensorflow_io_error(exc):
            raise
        return _fail(args.command, exc.message.splitlines()[0], 1)


def _is_tensorflow_io_error(exc: Exception) -> bool:
    """TensorFlow's own file errors (checkpoint or TFRecord writes on a full disk, a missing or
    unreadable file): an environment problem, not a bug, so one line like OSError."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return False
    errors = tf.errors
    return isinstance(exc, (errors.NotFoundError, errors.PermissionDeniedError,
                            errors.ResourceExhaustedError, errors.DataLossError,
                            errors.AlreadyExistsError))


def _fail(command: str, message: str, code: int) -> int:
    line = " ".join(message.split())
    print(f"musicvae-tf {command}: error: {line}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())

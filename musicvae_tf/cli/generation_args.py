"""Arguments shared by the generation subcommands (sample, interpolate, encode, attributes)."""

from __future__ import annotations

import argparse
import secrets

from musicvae_tf.errors import UsageError

DEFAULT_TEMPERATURE = 0.5
DEFAULT_NUM_OUTPUTS = 5


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """``--model``: a run directory, a .keras file or a shipped model's name."""
    parser.add_argument("--model", required=True, metavar="MODEL",
                        help="run directory written by `musicvae-tf train`, a .keras file, or a "
                        "shipped model's name (folk-mel_2bar, folk-hierdec-mel_16bar)")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--out`` and ``--no-wav``."""
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the .mid/.png/.wav files")
    parser.add_argument("--no-wav", action="store_true",
                        help="skip .wav rendering even when fluidsynth and a soundfont are installed")


def add_sampling_arguments(parser: argparse.ArgumentParser, temperature: float = DEFAULT_TEMPERATURE) -> None:
    """``--temperature`` and ``--seed``."""
    parser.add_argument("--temperature", type=float, default=temperature,
                        help=f"softmax temperature; 0 picks the most likely token (default {temperature})")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed; the same seed gives the same output (default: random, printed)")


def add_attribute_arguments(parser: argparse.ArgumentParser) -> None:
    """``--attribute NAME --amount K``: shift z along a saved attribute vector."""
    from musicvae_tf.attributes import ATTRIBUTES

    parser.add_argument("--attribute", choices=list(ATTRIBUTES), default=None,
                        help="shift z along this attribute vector (see `musicvae-tf attributes`)")
    parser.add_argument("--amount", type=float, default=1.0,
                        help="multiple of the attribute vector added to z (default 1.0; negative lowers it)")


def positive_int(text: str) -> int:
    """argparse type for counts."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def resolve_seed(seed: int | None) -> int:
    """The given seed, or a fresh random one (printed so the run can be repeated)."""
    if seed is None:
        seed = secrets.randbelow(2**31 - 1)
        print(f"seed {seed} (pass --seed {seed} to repeat this output)")
    return seed


def check_temperature(temperature: float) -> float:
    """Reject negative or non-finite temperatures."""
    if not temperature >= 0 or temperature == float("inf"):
        raise UsageError(f"--temperature must be >= 0, got {temperature}")
    return temperature


def attribute_amount(args: argparse.Namespace) -> tuple[str | None, float]:
    """(attribute, amount) to pass to TrainedModel; amount is 0 when no attribute is given."""
    return (args.attribute, args.amount) if args.attribute else (None, 0.0)

"""Arguments shared by the generation subcommands (sample, interpolate, encode, attributes)."""

from __future__ import annotations

import argparse
import secrets

from data_pipelines.errors import UsageError
from data_pipelines.tokens import MAX_QPM, MIN_QPM
from musicvae_tf.trained_model import DEFAULT_AMOUNT

DEFAULT_TEMPERATURE = 0.5
DEFAULT_NUM_OUTPUTS = 5
DEFAULT_QPM = 120.0


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """``--model``: a run directory, a .keras file or a shipped model's name."""
    parser.add_argument("--model", required=True, metavar="MODEL",
                        help="run directory written by `musicvae-tf train`, a .keras file, or a "
                        "shipped model's name (folk-mel_2bar, folk-hierdec-mel_16bar)")


def add_output_arguments(parser: argparse.ArgumentParser, qpm_help: str = f"tempo of the MIDI/WAV "
                         f"files in quarter notes per minute (default {DEFAULT_QPM:g})") -> None:
    """``--out``, ``--qpm`` and ``--no-wav``."""
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the .mid/.png/.wav files")
    parser.add_argument("--qpm", type=tempo, default=None, help=qpm_help)
    parser.add_argument("--no-wav", action="store_true",
                        help="skip .wav rendering even when fluidsynth and a soundfont are installed")


def add_sampling_arguments(parser: argparse.ArgumentParser, temperature: float = DEFAULT_TEMPERATURE) -> None:
    """``--temperature`` and ``--seed``."""
    parser.add_argument("--temperature", type=float, default=temperature,
                        help=f"softmax temperature; 0 picks the most likely token (default {temperature})")
    parser.add_argument("--seed", type=seed_value, default=None,
                        help="random seed in 0..2147483646; the same seed gives the same output "
                        "(default: random, printed)")


def add_attribute_arguments(parser: argparse.ArgumentParser) -> None:
    """``--attribute NAME --amount K``: shift z along a saved attribute vector."""
    from musicvae_tf.attributes import ATTRIBUTES

    parser.add_argument("--attribute", choices=list(ATTRIBUTES), default=None,
                        help="shift z along this attribute vector (see `musicvae-tf attributes`)")
    parser.add_argument("--amount", type=float, default=None,
                        help=f"multiple of the attribute vector added to z (default {DEFAULT_AMOUNT:g}, as "
                        "in the Python API; negative lowers it)")


def add_chords_argument(parser: argparse.ArgumentParser, default: str) -> None:
    """``--chords "C G Am F"``: the progression a chord-conditioned model decodes under."""
    parser.add_argument("--chords", default=None, metavar="PROGRESSION",
                        help="chord-conditioned models: one chord per bar, e.g. \"C G Am F\" "
                        "(repeated to fill the model's window; a longer progression is decoded "
                        f"window by window from the same latent); default: {default}")


def chord_steps(args: argparse.Namespace, model, default=None, default_name: str = "no chord"):
    """``(per-step chord tokens or None, a title suffix)`` for ``--chords``; a chord-conditioned
    model given none decodes under ``default`` (None: no chord) and says so."""
    if args.chords is not None:
        return model.chord_steps(args.chords), f", chords {' '.join(args.chords.split())}"
    if not model.has_controls:
        return None, ""
    print(f"no --chords given: decoding under {default_name} (pass e.g. --chords \"C G Am F\")")
    return default, f", chords {default_name}"


def _number(text: str, convert, what: str):
    """``convert(text)``, or the argparse error "expected WHAT"."""
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def positive_int(text: str) -> int:
    """argparse type for counts."""
    value = _number(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type for counts where 0 means none."""
    value = _number(text, int, "a whole number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def seed_value(text: str) -> int:
    """argparse type for seeds: a whole number in 0..2**31 - 2."""
    value = _number(text, int, "a whole number")
    if not 0 <= value < 2**31 - 1:
        raise argparse.ArgumentTypeError(f"a seed must lie in 0..{2**31 - 2}, got {value}")
    return value


def tempo(text: str) -> float:
    """argparse type for ``--qpm`` and the studio's ``qpm``: quarter notes per minute, from the
    slowest tempo a MIDI file can store (about 3.58) to 1000."""
    value = _number(text, float, "a number")
    if not MIN_QPM <= value <= MAX_QPM:
        raise argparse.ArgumentTypeError(
            f"a tempo must lie in {MIN_QPM:.3f}..{MAX_QPM:g} qpm (a MIDI file stores at most "
            f"16,777,215 microseconds per quarter), got {text[:40]}")
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


def output_writer(args: argparse.Namespace, data_config, default_qpm: float = DEFAULT_QPM):
    """The OutputWriter for ``--out``, ``--qpm`` (else ``default_qpm``) and ``--no-wav``."""
    from musicvae_tf.generation_output import OutputWriter

    qpm = args.qpm if args.qpm is not None else default_qpm
    return OutputWriter(args.out, data_config, wav=not args.no_wav, qpm=qpm)


def add_bar_argument(parser: argparse.ArgumentParser, help_text: str, nargs=None) -> None:
    """``--bar``: a window's start bar, counted from 1 like every bar number of the CLI."""
    parser.add_argument("--bar", type=bar_number, nargs=nargs, default=None, metavar="BAR", help=help_text)


def bar_number(text: str) -> int:
    """argparse type for bar numbers (from 1)."""
    value = _number(text, int, "a bar number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"bars count from 1, got {value}")
    return value


def attribute_amount(args: argparse.Namespace) -> tuple[str | None, float | None]:
    """(attribute, amount) to pass to :meth:`TrainedModel.shift`; ``--amount`` alone is an error."""
    if args.amount is not None and not args.attribute:
        raise UsageError("--amount needs --attribute")
    return args.attribute, args.amount

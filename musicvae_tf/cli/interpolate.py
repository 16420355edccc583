"""musicvae-tf interpolate: melodies on the latent path between two inputs (MIDI + PNGs + a grid PNG).

The two inputs are MIDI files (``--input A.mid B.mid``), pieces of a corpus by id
(``--input-piece ID_A ID_B``), or the first two usable pieces of a prepared split
(``--from-split DATA_DIR [SPLIT]``, default split ``test``: tunes the model never trained on).
"""

from __future__ import annotations

import argparse

from musicvae_tf.cli import generation_args as common

HELP = "interpolate between two melodies with a trained model (MIDI + PNG per step, one grid PNG)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the interpolate options."""
    common.add_model_argument(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", nargs=2, metavar=("A.mid", "B.mid"), help="two MIDI files")
    source.add_argument("--input-piece", nargs=2, metavar=("ID_A", "ID_B"),
                        help="two piece ids, as listed in a prepared DIR/pieces.json")
    source.add_argument("--from-split", nargs="+", metavar=("DATA_DIR", "SPLIT"),
                        help="the first two usable pieces of SPLIT (default test) of a prepared data folder")
    parser.add_argument("--num-outputs", type=_steps, default=common.DEFAULT_NUM_OUTPUTS,
                        help=f"interpolation steps, both endpoints included (default {common.DEFAULT_NUM_OUTPUTS})")
    parser.add_argument("--method", choices=["slerp", "lerp"], default="slerp",
                        help="spherical or linear path between the posterior means (default slerp)")
    parser.add_argument("--bar", type=int, nargs="+", default=None, metavar="BAR",
                        help="window start bar of the inputs (one value for both, or one each; default: first window)")
    common.add_sampling_arguments(parser)
    common.add_attribute_arguments(parser)
    common.add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Encode both inputs, walk between their means, decode, write and list the files."""
    import numpy as np

    from musicvae_tf.generation_output import OutputWriter
    from musicvae_tf.interpolation import interpolate_latents
    from musicvae_tf.plotting import plot_token_grid
    from musicvae_tf.trained_model import TrainedModel

    temperature = common.check_temperature(args.temperature)
    bar_a, bar_b = _bars(args.bar)
    model = TrainedModel.load(args.model)
    inputs, names = _inputs(args, model)
    first, last = model.encode_one(inputs[0], bar_a), model.encode_one(inputs[1], bar_b)
    seed = common.resolve_seed(args.seed)
    attribute, amount = common.attribute_amount(args)
    latents = model.shift(interpolate_latents(first.mu[0], last.mu[0], args.num_outputs, args.method),
                          attribute, amount)
    tokens = model.decode_tokens(latents, temperature=temperature, seed=seed)

    writer = OutputWriter(args.out, model.data_config, wav=not args.no_wav)
    ends = [(first.windows[0], names[0], "a"), (last.windows[0], names[1], "b")]
    for window, name, tag in ends:
        writer.write_melody(window.tokens, f"input_{tag}", title=f"input {tag.upper()}: {_where(name, window)}")
    count = len(tokens)
    titles = [f"step {i}/{count - 1} ({args.method}, t={i / (count - 1):.2f})" for i in range(count)]
    writer.write_melodies(tokens, "interp", titles)
    grid_titles = ([f"input A: {_where(names[0], first.windows[0])}"] + titles
                   + [f"input B: {_where(names[1], last.windows[0])}"])
    grid_rows = [first.windows[0].tokens] + list(tokens) + [last.windows[0].tokens]
    writer.add(plot_token_grid([np.asarray(r) for r in grid_rows], writer.out_dir / "interpolation.png",
                               model.data_config, titles=grid_titles))
    print(f"interpolated {names[0]} -> {names[1]} in {count} steps ({args.method}, temperature {temperature:g})")
    print(writer.report())
    return 0


def _steps(text: str) -> int:
    value = common.positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError("an interpolation needs at least 2 steps (its two endpoints)")
    return value


def _bars(bars: list[int] | None) -> tuple[int | None, int | None]:
    from musicvae_tf.errors import UsageError

    if bars is None:
        return None, None
    if len(bars) > 2 or min(bars) < 0:
        raise UsageError("--bar takes one or two bar numbers >= 0")
    return bars[0], bars[-1]


def _inputs(args: argparse.Namespace, model) -> tuple[list, list[str]]:
    """The two inputs (paths or NoteSequences) and their display names."""
    if args.input:
        return list(args.input), list(args.input)
    if args.input_piece:
        from musicvae_tf.piece_inputs import load_piece_sequence

        return [load_piece_sequence(piece_id) for piece_id in args.input_piece], list(args.input_piece)
    from musicvae_tf.piece_inputs import pieces_from_split

    return pieces_from_split(args.from_split, model, count=2)


def _where(name: str, window) -> str:
    return f"{name}, bar {window.bar_offset}"

"""musicvae-tf interpolate: melodies on the latent path between two inputs (MIDI + PNGs + a grid PNG),
or magenta-js's 4-corner grid between four.

The inputs are MIDI files (``--input A.mid B.mid [C.mid D.mid]``), pieces of a corpus by id
(``--input-piece ID_A ID_B [ID_C ID_D]``), or the first usable pieces of a prepared split
(``--from-split DATA_DIR [SPLIT]``, default split ``test``: tunes the model never trained on; two
of them, four with ``--corners``). With four inputs the latents are blended bilinearly (A top left,
B top right, C bottom left, D bottom right, see :mod:`musicvae_tf.latent_grid`) into a
``--num-outputs`` x ``--num-outputs`` grid: one MIDI per point and one PNG of the whole grid.
"""

from __future__ import annotations

import argparse

from musicvae_tf.cli import generation_args as common

HELP = ("interpolate between two melodies (MIDI + PNG per step, one grid PNG), or between four "
        "as magenta-js's 4-corner grid")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the interpolate options."""
    common.add_model_argument(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", nargs="+", metavar="FILE.mid",
                        help="two MIDI files (A B), or four (A B C D) for a 4-corner grid")
    source.add_argument("--input-piece", nargs="+", metavar="ID",
                        help="two or four piece ids, as listed in a prepared DIR/pieces.json")
    source.add_argument("--from-split", nargs="+", metavar=("DATA_DIR", "SPLIT"),
                        help="the first usable pieces of SPLIT (default test) of a prepared data folder")
    parser.add_argument("--corners", action="store_true",
                        help="with --from-split: take four pieces and draw the 4-corner grid")
    parser.add_argument("--num-outputs", type=_steps, default=common.DEFAULT_NUM_OUTPUTS,
                        help="interpolation steps, both endpoints included; with four inputs, points "
                        f"per side of the grid (default {common.DEFAULT_NUM_OUTPUTS})")
    parser.add_argument("--method", choices=["slerp", "lerp"], default="slerp",
                        help="spherical or linear path between the posterior means (default slerp; "
                        "a 4-corner grid is always bilinear, as in magenta-js)")
    common.add_bar_argument(parser, "window start bar of the inputs, counted from 1 (one value for "
                            "all, or one per input; default: each input's first window)", nargs="+")
    common.add_chords_argument(parser, "no chord (N.C.)")
    common.add_sampling_arguments(parser)
    common.add_attribute_arguments(parser)
    common.add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Encode the inputs, walk between their means, decode, write and list the files."""
    from musicvae_tf.cli.output_paths import check_output_dir
    from musicvae_tf.trained_model import TrainedModel

    temperature = common.check_temperature(args.temperature)
    count = _input_count(args)
    bars = _bars(args.bar, count)
    attribute, amount = common.attribute_amount(args)
    check_output_dir(args.out)
    model = TrainedModel.load(args.model)
    chords = common.chord_steps(args, model)
    inputs, names = _inputs(args, model, count)
    encoded = [model.encode_one(item, bar) for item, bar in zip(inputs, bars)]
    seed = common.resolve_seed(args.seed)
    writer = common.output_writer(args, model.data_config)
    ends = [(e.windows[0], name, tag) for e, name, tag in zip(encoded, names, "abcd")]
    for window, name, tag in ends:
        writer.write_melody(window.tokens, f"input_{tag}", title=f"input {tag.upper()}: {_where(name, window)}")
    if count == 2:
        _write_path(args, model, encoded, ends, writer, attribute, amount, temperature, seed,
                    chords)
    else:
        _write_grid(args, model, encoded, ends, writer, attribute, amount, temperature, seed,
                    chords)
    if model.prior.interpolation_space:  # e.g. a VQ-VAE: between the codes, not in a Gaussian z
        print(model.prior.interpolation_space)
    print(writer.report())
    return 0


def _write_path(args, model, encoded, ends, writer, attribute, amount, temperature, seed,
                chords) -> None:
    import numpy as np

    from musicvae_tf.interpolation import interpolate_latents
    from musicvae_tf.plotting import plot_token_grid

    first, last = encoded
    latents = model.shift(interpolate_latents(first.mu[0], last.mu[0], args.num_outputs, args.method),
                          attribute, amount)
    chord_steps, chord_title = chords
    tokens = model.decode_tokens(latents, temperature=temperature, seed=seed, chords=chord_steps)
    count = len(tokens)
    titles = [f"step {i + 1}/{count} ({args.method}, t={i / (count - 1):.2f}{chord_title})"
              for i in range(count)]
    writer.write_melodies(tokens, "interp", titles)
    (window_a, name_a, _), (window_b, name_b, _) = ends
    grid_titles = [f"input A: {_where(name_a, window_a)}"] + titles + [f"input B: {_where(name_b, window_b)}"]
    grid_rows = [window_a.tokens] + list(tokens) + [window_b.tokens]
    writer.add(plot_token_grid([np.asarray(r) for r in grid_rows], writer.out_dir / "interpolation.png",
                               model.data_config, titles=grid_titles))
    print(f"interpolated {name_a} -> {name_b} in {count} steps ({args.method}, temperature {temperature:g})")


def _write_grid(args, model, encoded, ends, writer, attribute, amount, temperature, seed,
                chords) -> None:
    import numpy as np

    from musicvae_tf.latent_grid import bilinear_grid
    from musicvae_tf.plotting import plot_token_matrix

    n = args.num_outputs
    grid = bilinear_grid(np.stack([e.mu[0] for e in encoded]), n)
    latents = model.shift(grid.reshape(n * n, -1), attribute, amount)
    tokens = model.decode_tokens(latents, temperature=temperature, seed=seed, chords=chords[0])
    tokens = tokens.reshape(n, n, *tokens.shape[1:])
    width = len(str(n))
    corners = {(0, 0): "A", (0, n - 1): "B", (n - 1, 0): "C", (n - 1, n - 1): "D"}
    titles = []
    for r in range(n):
        titles.append([])
        for c in range(n):
            label = f"row {r + 1}, column {c + 1}" + (f" (near {corners[r, c]})" if (r, c) in corners else "")
            writer.write_melody(tokens[r, c], f"grid_r{r + 1:0{width}d}_c{c + 1:0{width}d}", plot=False)
            titles[-1].append(label)
    writer.add(plot_token_matrix(tokens, writer.out_dir / "interpolation_grid.png", model.data_config,
                                 titles=titles))
    names = " ".join(f"{tag.upper()}={name}" for _, name, tag in ends)
    print(f"4-corner grid {n}x{n} (bilinear, temperature {temperature:g}): {names}")


def _steps(text: str) -> int:
    value = common.positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError("an interpolation needs at least 2 steps (its two endpoints)")
    return value


def _input_count(args: argparse.Namespace) -> int:
    from data_pipelines.errors import UsageError

    given = args.input or args.input_piece
    if given is not None:
        if args.corners:
            raise UsageError("--corners goes with --from-split; give four --input files instead")
        if len(given) not in (2, 4):
            option = "--input" if args.input else "--input-piece"
            raise UsageError(f"{option} takes two inputs (a path) or four (a 4-corner grid), got {len(given)}")
        return len(given)
    return 4 if args.corners else 2


def _bars(bars: list[int] | None, count: int) -> list[int | None]:
    from data_pipelines.errors import UsageError

    if bars is None:
        return [None] * count
    if len(bars) not in (1, count):
        raise UsageError(f"--bar takes one bar number for all inputs or one per input ({count})")
    return bars * count if len(bars) == 1 else list(bars)


def _inputs(args: argparse.Namespace, model, count: int) -> tuple[list, list[str]]:
    """The inputs (paths or NoteSequences) and their display names."""
    if args.input:
        return list(args.input), list(args.input)
    if args.input_piece:
        from musicvae_tf.piece_inputs import load_piece_sequence

        return [load_piece_sequence(piece_id) for piece_id in args.input_piece], list(args.input_piece)
    from musicvae_tf.piece_inputs import pieces_from_split

    return pieces_from_split(args.from_split, model, count=count)


def _where(name: str, window) -> str:
    return f"{name}, bar {window.bar_offset + 1}"

"""``musicvae-tf inpaint``: fill missing (or unwanted) bars of a MIDI piece; MIDI + marked piano roll."""

from __future__ import annotations

import argparse

from musicvae_tf.cli import generation_args as common
from data_pipelines.errors import UsageError

HELP = ("fill bars of a MIDI piece so they connect what comes before and after (MIDI + PNG, WAV "
        "when fluidsynth is installed)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``inpaint``."""
    parser.add_argument("--model", required=True, metavar="MODEL",
                        help="run dir of `musicvae-tf train-inpainting` (latent RNN) or of a 16-bar "
                        "MusicVAE (`musicvae-tf train`, used by latent search), of a 16-bar VQ-VAE "
                        "(its code prior fills the gap's codes), of SketchNet (musicvae-tf train "
                        "--config sketchnet-demo; steered by --rhythm / --pitches), or a shipped "
                        "model's name (folk-inpaint, folk-hierdec-mel_16bar)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", metavar="PIECE.mid", help="the piece (4/4 or 2/2)")
    source.add_argument("--input-piece", metavar="ID",
                        help="instead of --input: a piece id, e.g. music21:oneills1850/"
                        "oneills1850.abc#12 (a tune of a corpus or tunebook)")
    source.add_argument("--held-out-from", metavar="DATA_DIR",
                        help="instead of --input: the first held-out (test) piece of a prepared "
                        "data dir that is long enough for --bars")
    parser.add_argument("--bars", metavar="FIRST-LAST",
                        help="1-based inclusive bars to fill, e.g. 9-12 (default: the longest "
                        "stretch of empty bars between notes)")
    parser.add_argument("--num-outputs", type=common.positive_int, default=1,
                        help="how many completions (default 1)")
    parser.add_argument("--rhythm", action="append", metavar="BAR=PATTERN",
                        help="SketchNet only: the rhythm of gap bar BAR, one character per step "
                        "(x onset, - hold, . rest), e.g. 8=x---x---x-x-x---; repeatable")
    parser.add_argument("--pitches", action="append", metavar="BAR=NOTES",
                        help="SketchNet only: the onset pitches of gap bar BAR in order, note "
                        "names or MIDI numbers, e.g. 8=C5,D5,E5,72; repeatable")
    common.add_sampling_arguments(parser)
    parser.add_argument("--search-steps", type=common.positive_int, default=100,
                        help="gradient steps on z when --model is a MusicVAE (default 100)")
    common.add_output_arguments(parser, qpm_help="tempo of the MIDI/WAV files in quarter notes per "
                                "minute (default: the input piece's tempo)")


def run(args: argparse.Namespace) -> int:
    """Check the gap against the model, read the piece, inpaint, write the files."""
    from musicvae_tf.cli.output_paths import check_output_dir
    from musicvae_tf.models.inpainting.inpaint import (LatentRNNInpainter, check_gap, inpaint_piece,
                                                inpainter_config, load_inpainter, write_inpainted)
    from musicvae_tf.models.inpainting.config import LatentRNNSettings
    from musicvae_tf.models.inpainting.piece import (find_empty_gap, held_out_piece, parse_bar_range,
                                              piece_from_id, read_piece, window_around_gap)

    temperature = common.check_temperature(args.temperature)
    gap = parse_bar_range(args.bars) if args.bars else None
    if args.held_out_from and gap is None:
        raise UsageError("--held-out-from needs --bars")
    check_output_dir(args.out)
    run_dir, config = inpainter_config(args.model)
    if gap is not None:
        check_gap(config, gap[1])
    if args.input:
        piece = read_piece(args.input, config.data)
    elif args.input_piece:
        piece = piece_from_id(args.input_piece, config.data)
    else:
        piece_id, piece = held_out_piece(args.held_out_from, config.data, min_bars=sum(gap) + 1)
        print(f"held-out piece: {piece_id} ({piece.num_bars} bars)")
    gap_start, gap_length = gap if gap is not None else find_empty_gap(piece)
    check_gap(config, gap_length)
    window_around_gap(piece.num_bars, gap_start, gap_length, config.data.num_bars)  # validates
    sketches = _sketches(args, config, gap_start, gap_length)
    inpainter = load_inpainter(run_dir, search_steps=args.search_steps)
    if sketches:
        inpainter.sketches = sketches
    seed = common.resolve_seed(args.seed)
    if isinstance(inpainter, LatentRNNInpainter):
        trained = LatentRNNSettings.from_config(inpainter.config)
        if gap_length < trained.min_gap:
            print(f"note: the model was trained on gaps of {trained.min_gap}-{trained.max_gap} "
                  f"bars; this one has {gap_length}")
    pieces = inpaint_piece(inpainter, piece, gap_start, gap_length, args.num_outputs,
                           temperature, seed)
    qpm = args.qpm if args.qpm is not None else piece.qpm
    paths = write_inpainted(pieces, gap_start, gap_length, args.out, config.data, qpm=qpm,
                            wav=not args.no_wav)
    print(f"inpainted bars {gap_start + 1}-{gap_start + gap_length} of {piece.num_bars}:")
    for path in paths:
        print(f"  {path}  {path.with_suffix('.png')}" + (
            f"  {path.with_suffix('.wav')}" if path.with_suffix(".wav").is_file() else ""))
    return 0


def _sketches(args, config, gap_start: int, gap_length: int) -> dict:
    """The parsed --rhythm / --pitches sketches (UsageError unless the model is a SketchNet)."""
    if not (args.rhythm or args.pitches):
        return {}
    if config.family != "sketchnet":
        raise UsageError("--rhythm and --pitches need a SketchNet model (family sketchnet)")
    from musicvae_tf.models.sketchnet.sketches import parse_sketches

    return parse_sketches(args.rhythm, args.pitches, gap_start, gap_length, config.data)

"""musicvae-tf sample: new melodies decoded from random latents, as MIDI + piano-roll PNG (+ WAV)."""

from __future__ import annotations

import argparse

from musicvae_tf.cli import generation_args as common

DEFAULT_SIMILARITY = 0.8

HELP = "sample new melodies from a trained model (MIDI + PNG, WAV when fluidsynth is installed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the sample options."""
    common.add_model_argument(parser)
    parser.add_argument("--num-outputs", type=common.positive_int, default=common.DEFAULT_NUM_OUTPUTS,
                        help=f"how many melodies (default {common.DEFAULT_NUM_OUTPUTS})")
    parser.add_argument("--like", metavar="FILE.mid", default=None,
                        help="sample latents near this melody's latent instead of from the prior "
                             "(magenta-js `similar`)")
    nearness = parser.add_mutually_exclusive_group()
    nearness.add_argument("--similarity", type=float, default=None,
                          help="magenta-js's mix s * mu + (1 - s) * noise with the --like latent mu, "
                               "s in [0, 1]; 1 is the melody itself (default 0.8)")
    nearness.add_argument("--cosine", type=float, default=None,
                          help="instead: latents at this cosine similarity (in [-1, 1]) to mu with "
                               "its norm, which keeps them where the decoder was trained")
    common.add_bar_argument(parser, "window of --like to use, by its first bar counted from 1 "
                            "(default: the first window)")
    common.add_chords_argument(parser, "the chords of the --like window, else no chord (N.C.)")
    common.add_sampling_arguments(parser)
    common.add_attribute_arguments(parser)
    common.add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Sample, write and list the files."""
    from pathlib import Path

    from musicvae_tf.cli.output_paths import check_output_dir
    from data_pipelines.errors import UsageError
    from musicvae_tf.trained_model import DEFAULT_AMOUNT, TrainedModel

    temperature = common.check_temperature(args.temperature)
    attribute, amount = common.attribute_amount(args)
    if not args.like and (args.bar is not None or args.similarity is not None
                          or args.cosine is not None):
        raise UsageError("--bar, --similarity and --cosine pick latents near --like; give --like "
                         "FILE.mid too")
    if args.similarity is not None and not 0.0 <= args.similarity <= 1.0:
        raise UsageError(f"--similarity must lie in [0, 1], got {args.similarity}")
    if args.cosine is not None and not -1.0 <= args.cosine <= 1.0:
        raise UsageError(f"--cosine must lie in [-1, 1], got {args.cosine}")
    check_output_dir(args.out)
    model = TrainedModel.load(args.model)
    chords, chord_title = ((None, "") if args.like and args.chords is None
                           else common.chord_steps(args, model))
    seed = common.resolve_seed(args.seed)
    if args.like:
        reference = model.encode_one(args.like, args.bar)
        mu, start = reference.mu[0], reference.windows[0].bar_offset + 1
        if model.has_controls and args.chords is None:
            chords, chord_title = common.chord_steps(
                args, model, model.chords_of(reference.windows[0].tokens),
                f"the chords of {Path(args.like).name} bar {start}")
        if args.cosine is not None:
            z = model.cosine_latents(mu, args.num_outputs, args.cosine, seed)
            origin = f", cosine {args.cosine:g} to {Path(args.like).name} bar {start}"
        else:
            similarity = DEFAULT_SIMILARITY if args.similarity is None else args.similarity
            z = model.similar_latents(mu, args.num_outputs, similarity, seed)
            origin = f", similarity {similarity:g} to {Path(args.like).name} bar {start}"
    else:
        z, origin = model.sample_latents(args.num_outputs, seed, temperature), ""
    tokens = model.decode_tokens(model.shift(z, attribute, amount), temperature=temperature,
                                 seed=seed, chords=chords)
    shift = f", {attribute} {DEFAULT_AMOUNT if amount is None else amount:+g}" if attribute else ""
    titles = [f"sample {i} (temperature {temperature:g}, seed {seed}{shift}{origin}{chord_title})"
              for i in range(len(tokens))]
    writer = common.output_writer(args, model.data_config)
    writer.write_melodies(tokens, "sample", titles)
    print(writer.report())
    return 0

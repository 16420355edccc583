"""musicvae-tf sample: new melodies decoded from random latents, as MIDI + piano-roll PNG (+ WAV)."""

from __future__ import annotations

import argparse

from musicvae_tf.cli import generation_args as common

HELP = "sample new melodies from a trained model (MIDI + PNG, WAV when fluidsynth is installed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the sample options."""
    common.add_model_argument(parser)
    parser.add_argument("--num-outputs", type=common.positive_int, default=common.DEFAULT_NUM_OUTPUTS,
                        help=f"how many melodies (default {common.DEFAULT_NUM_OUTPUTS})")
    parser.add_argument("--like", metavar="FILE.mid", default=None,
                        help="sample latents at a given cosine similarity to this melody's latent instead of "
                             "from the prior (magenta-js `similar`)")
    parser.add_argument("--similarity", type=float, default=0.8,
                        help="cosine similarity to the --like latent, in [-1, 1] (default 0.8)")
    parser.add_argument("--bar", type=int, default=None,
                        help="window of --like to use, by start bar (default: the first window)")
    common.add_sampling_arguments(parser)
    common.add_attribute_arguments(parser)
    common.add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Sample, write and list the files."""
    from pathlib import Path

    from musicvae_tf.cli.output_paths import check_output_dir
    from musicvae_tf.errors import UsageError
    from musicvae_tf.generation_output import OutputWriter
    from musicvae_tf.trained_model import TrainedModel

    temperature = common.check_temperature(args.temperature)
    check_output_dir(args.out)
    model = TrainedModel.load(args.model)
    seed = common.resolve_seed(args.seed)
    attribute, amount = common.attribute_amount(args)
    if args.bar is not None and not args.like:
        raise UsageError("--bar picks a window of --like; give --like FILE.mid too")
    if args.like:
        reference = model.encode_one(args.like, args.bar)
        z = model.similar_latents(reference.mu[0], args.num_outputs, args.similarity, seed)
        origin = f", cosine {args.similarity:g} to {Path(args.like).name} bar {reference.windows[0].bar_offset}"
    else:
        z, origin = model.sample_latents(args.num_outputs, seed), ""
    tokens = model.decode_tokens(model.shift(z, attribute, amount), temperature=temperature, seed=seed)
    shift = f", {attribute} {amount:+g}" if attribute else ""
    titles = [f"sample {i} (temperature {temperature:g}, seed {seed}{shift}{origin})" for i in range(len(tokens))]
    writer = OutputWriter(args.out, model.data_config, wav=not args.no_wav)
    writer.write_melodies(tokens, "sample", titles)
    print(writer.report())
    return 0

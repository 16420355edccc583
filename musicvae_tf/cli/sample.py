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
    common.add_sampling_arguments(parser)
    common.add_attribute_arguments(parser)
    common.add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Sample, write and list the files."""
    from musicvae_tf.generation_output import OutputWriter
    from musicvae_tf.trained_model import TrainedModel

    temperature = common.check_temperature(args.temperature)
    model = TrainedModel.load(args.model)
    seed = common.resolve_seed(args.seed)
    attribute, amount = common.attribute_amount(args)
    tokens = model.sample_tokens(args.num_outputs, temperature=temperature, seed=seed,
                                 attribute=attribute, amount=amount)
    shift = f", {attribute} {amount:+g}" if attribute else ""
    titles = [f"sample {i} (temperature {temperature:g}, seed {seed}{shift})" for i in range(len(tokens))]
    writer = OutputWriter(args.out, model.data_config, wav=not args.no_wav)
    writer.write_melodies(tokens, "sample", titles)
    print(writer.report())
    return 0

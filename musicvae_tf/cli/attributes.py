"""musicvae-tf attributes: attribute vectors (note density, interval, C-diatonic, syncopation) for a model.

Computes the vectors from the posterior means of a prepared split, saves them beside the model
(``attributes.npz``), and checks them: decodes the same random latents shifted by -amount, 0 and
+amount along each vector and prints the mean attribute of the decoded melodies. With ``--out`` it
also writes, per attribute, one latent decoded at five amounts (MIDI + PNG + a grid PNG).
"""

from __future__ import annotations

import argparse

from musicvae_tf.cli import generation_args as common

HELP = "compute attribute vectors from prepared data, save them beside the model and show their effect"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the attributes options."""
    common.add_model_argument(parser)
    parser.add_argument("--data", required=True, metavar="DIR", help="folder written by `musicvae-tf prepare`")
    parser.add_argument("--split", default="train", choices=["train", "eval", "test"],
                        help="split whose windows define high/low quartiles (default train)")
    parser.add_argument("--max-examples", type=common.positive_int, default=None,
                        help="use at most this many windows (default: the whole split)")
    parser.add_argument("--batch-size", type=common.positive_int, default=128, help="encoder batch size")
    parser.add_argument("--check-samples", type=common.non_negative_int, default=32,
                        help="random latents decoded to check each vector's effect (0 skips the check)")
    parser.add_argument("--check-amount", type=float, default=1.0,
                        help="multiple of each vector used by the check and the --out examples (default 1)")
    common.add_sampling_arguments(parser)
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="also write example melodies shifted along each vector here")
    parser.add_argument("--qpm", type=common.tempo, default=None,
                        help=f"tempo of the example MIDI/WAV files (default {common.DEFAULT_QPM:g})")
    parser.add_argument("--no-wav", action="store_true", help="skip .wav rendering of the examples")


def run(args: argparse.Namespace) -> int:
    """Compute, save, check and optionally write examples."""
    import numpy as np

    from musicvae_tf.attributes import attribute_values
    from musicvae_tf.cli.output_paths import check_output_dir, check_output_file
    from musicvae_tf.melody_stats import require_melody
    from musicvae_tf.trained_model import TrainedModel

    temperature = common.check_temperature(args.temperature)
    if args.out:
        check_output_dir(args.out)
    model = TrainedModel.load(args.model)
    require_melody(model.data_config, "attribute vectors")
    check_output_file(model.attributes_path, "attribute vectors")
    vectors = model.compute_attribute_vectors(args.data, args.split, args.max_examples, args.batch_size,
                                              progress=True)
    path = model.save_attribute_vectors()
    print(f"attribute vectors from {vectors.num_examples} {args.split} windows of {args.data} -> {path}")
    print(f"{'attribute':<18} {'low <=':>8} {'high >=':>8} {'n low':>6} {'n high':>6} {'|vector|':>8}")
    for name, item in vectors.vectors.items():
        print(f"{name:<18} {item.low_threshold:8.3f} {item.high_threshold:8.3f} {item.low_count:6d} "
              f"{item.high_count:6d} {np.linalg.norm(item.vector):8.3f}")
    seed = common.resolve_seed(args.seed)
    if args.check_samples > 0:
        k = args.check_amount
        z = model.sample_latents(args.check_samples, seed)
        base = attribute_values(model.decode_tokens(z, temperature, seed), model.data_config)
        print(f"mean attribute of {args.check_samples} decoded samples (temperature {temperature:g}) "
              f"at z - {k:g} v, z, z + {k:g} v:")
        for name in vectors.vectors:
            lower = attribute_values(model.decode_tokens(model.shift(z, name, -k), temperature, seed),
                                     model.data_config)[name]
            higher = attribute_values(model.decode_tokens(model.shift(z, name, k), temperature, seed),
                                      model.data_config)[name]
            print(f"  {name:<18} {_mean(lower):8.3f} {_mean(base[name]):8.3f} {_mean(higher):8.3f}")
    if args.out:
        _write_examples(model, vectors, common.output_writer(args, model.data_config),
                        args.check_amount, temperature, seed)
    return 0


def _mean(values) -> float:
    import numpy as np

    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _write_examples(model, vectors, writer, amount: float, temperature: float, seed: int) -> None:
    """Per attribute: one latent at amounts -2k..+2k as MIDI + PNG, and a grid PNG of all five."""
    import numpy as np

    from musicvae_tf.plotting import plot_token_grid

    z = model.sample_latents(1, seed)
    amounts = np.linspace(-2.0, 2.0, 5) * amount
    for name in vectors.vectors:
        shifted = np.concatenate([model.shift(z, name, k) for k in amounts])
        tokens = model.decode_tokens(shifted, temperature, seed)
        titles = [f"{name} {k:+g} x vector" for k in amounts]
        writer.write_melodies(tokens, name, titles)
        writer.add(plot_token_grid(list(tokens), writer.out_dir / f"{name}.png", model.data_config, titles=titles))
    print(writer.report())

"""musicvae-tf encode: latent codes of every window of MIDI files, plus their reconstructions.

Writes ``latents.npz`` (z, mu, sigma float32 [N, D]; source, melody_index [N]; bar [N], the window's
first bar counted from 1; bar_offset [N], the same counted from 0) and for
each window ``input_NNN.mid`` (the window as the model sees it) and ``recon_NNN.mid`` (decoded
from the posterior mean) with ``recon_NNN.png`` showing the input above its reconstruction.
"""

from __future__ import annotations

import argparse

from musicvae_tf.cli import generation_args as common

HELP = "encode MIDI files to latent vectors (all windows, or --bar) and write their reconstructions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the encode options."""
    common.add_model_argument(parser)
    parser.add_argument("--input", nargs="+", required=True, metavar="FILE.mid", help="MIDI files to encode")
    common.add_bar_argument(parser, "encode only the window starting at this bar, counted from 1 "
                            "(default: every window)")
    common.add_sampling_arguments(parser, temperature=0.0)
    common.add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Encode, decode the means, write and list the files."""
    import io

    import numpy as np

    from musicvae_tf.cli.output_paths import check_output_dir
    from data_pipelines.io_utils import atomic_write_bytes
    from musicvae_tf.plotting import plot_token_grid
    from musicvae_tf.trained_model import TrainedModel

    temperature = common.check_temperature(args.temperature)
    check_output_dir(args.out)
    model = TrainedModel.load(args.model)
    seed = common.resolve_seed(args.seed)
    encoded = model.encode(list(args.input), bar=args.bar, seed=seed)
    # A chord-conditioned model reconstructs each window under its own chords.
    chords = model.chords_of(encoded.tokens) if model.has_controls else None
    recon = model.decode_tokens(encoded.mu, temperature=temperature, seed=seed, chords=chords)

    writer = common.output_writer(args, model.data_config)
    buffer = io.BytesIO()
    np.savez(buffer, z=encoded.z, mu=encoded.mu, sigma=encoded.sigma,
             source=np.asarray([w.source for w in encoded.windows]),
             melody_index=np.asarray([w.melody_index for w in encoded.windows]),
             bar=np.asarray([w.bar_offset + 1 for w in encoded.windows]),
             bar_offset=np.asarray([w.bar_offset for w in encoded.windows]))
    writer.add(atomic_write_bytes(writer.out_dir / "latents.npz", buffer.getvalue()))
    width = max(3, len(str(len(recon) - 1)))
    same = model.output_columns(recon) == model.output_columns(encoded.tokens)
    accuracies = same.reshape(len(recon), -1).mean(axis=1)
    for index, (window, tokens, accuracy) in enumerate(zip(encoded.windows, recon, accuracies)):
        stem = f"{index:0{width}d}"
        where = f"{window.source}, melody {window.melody_index}, bar {window.bar_offset + 1}"
        writer.write_melody(window.tokens, f"input_{stem}", plot=False)
        writer.write_melody(tokens, f"recon_{stem}", plot=False)
        writer.add(plot_token_grid([window.tokens, tokens], writer.out_dir / f"recon_{stem}.png",
                                   model.data_config,
                                   titles=[f"input: {where}",
                                           f"reconstruction from mu (temperature {temperature:g}, "
                                           f"{accuracy:.0%} of steps equal)"]))
        print(f"{stem}  {where}  |mu| {np.linalg.norm(encoded.mu[index]):.2f}  "
              f"mean sigma {encoded.sigma[index].mean():.3f}  reconstruction {accuracy:.0%}")
    print(writer.report())
    return 0

"""``musicvae-tf import-magenta``: a Magenta MusicVAE checkpoint as a model directory of this package."""

from __future__ import annotations

import argparse

HELP = "import a Magenta MusicVAE checkpoint (TF1 .tar/folder/prefix or magenta-js) as a model dir"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``import-magenta``."""
    parser.add_argument("--config", required=True,
                        help="config the checkpoint was trained with (e.g. cat-mel_2bar_big) or a YAML "
                             "path; model sizes are read from the checkpoint")
    parser.add_argument("--checkpoint", required=True, metavar="PATH",
                        help="a Magenta .tar, a folder with a `checkpoint` file, a checkpoint prefix "
                             "(model.ckpt-NNNN) or a magenta-js folder (weights_manifest.json)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="new model folder (model.keras, config.yaml, provenance.json)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a config field before importing (repeatable)")


def run(args: argparse.Namespace) -> int:
    """Import and report what was imported."""
    from musicvae_tf.cli.output_paths import check_output_dir
    from musicvae_tf.config import load_config
    from musicvae_tf.models.music_vae.magenta_import import import_magenta

    config = load_config(args.config, args.set)
    check_output_dir(args.out)
    imported = import_magenta(args.checkpoint, config, args.out)
    if imported.differences:
        print(f"note: the checkpoint's sizes differ from config {config.name}; the model follows "
              f"the checkpoint: {'; '.join(imported.differences)}")
    provenance = imported.provenance
    quantized = f", {'/'.join(provenance['quantization'])}-quantised" if provenance["quantization"] else ""
    print(f"imported {provenance['variables']} variables ({provenance['parameters']:,} parameters, "
          f"{provenance['format']}{quantized}) from {args.checkpoint} into {args.out}")
    return 0

"""``musicvae-tf evaluate-inpainting``: held-out inpainting metrics for the latent RNN and baselines."""

from __future__ import annotations

import argparse
from pathlib import Path

from musicvae_tf.cli.generation_args import positive_int, seed_value

HELP = "evaluate inpainting on held-out pieces: latent RNN vs interpolation, repeat, 16-bar search"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``evaluate-inpainting``."""
    parser.add_argument("--model", required=True, metavar="RUN", help="latent-RNN run dir")
    parser.add_argument("--data", required=True, help="prepared 16-bar data dir")
    parser.add_argument("--split", default="test", choices=("test", "eval"), help="held-out split")
    parser.add_argument("--hierarchical", metavar="RUN",
                        help="a 16-bar MusicVAE run dir to score by latent search as well")
    parser.add_argument("--vq", metavar="RUN",
                        help="a 16-bar VQ-VAE run dir (with its code prior) to score as well")
    parser.add_argument("--sketchnet", metavar="RUN",
                        help="a SketchNet run dir to score as well (protocol A: no sketch, true "
                        "rhythm, true pitches, inpainter alone)")
    parser.add_argument("--protocols", default="A,B", help="A (6/4/6), B (random as training) or A,B")
    parser.add_argument("--max-windows", type=positive_int, help="evaluate at most this many windows")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--search-steps", type=positive_int, default=100,
                        help="gradient steps on z for --hierarchical (default 100)")
    parser.add_argument("--seed", type=seed_value, default=0, help="seed of protocol B's splits")
    parser.add_argument("--out", required=True, metavar="FILE.json",
                        help="results JSON (a Markdown table is written beside it as .md)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Load, evaluate, write JSON + table, print the table."""
    from musicvae_tf.cli.output_paths import check_output_file
    from data_pipelines.errors import MusicVAEError
    from musicvae_tf.models.inpainting.evaluate import evaluate_run
    from musicvae_tf.models.inpainting.inpaint import LatentRNNInpainter, LatentSearchInpainter, load_inpainter

    check_output_file(args.out)
    protocols = tuple(p.strip().upper() for p in args.protocols.split(",") if p.strip())
    inpainter = load_inpainter(args.model)
    if not isinstance(inpainter, LatentRNNInpainter):
        raise MusicVAEError(f"{args.model} is not a latent-RNN run (train it with train-inpainting)")
    searcher = None
    if args.hierarchical:
        searcher = load_inpainter(args.hierarchical, search_steps=args.search_steps)
        if not isinstance(searcher, LatentSearchInpainter):
            raise MusicVAEError(f"--hierarchical {args.hierarchical} is not a MusicVAE run")
    vq = None
    if args.vq:
        from musicvae_tf.models.vq_vae.inpaint import VQInpainter

        vq = load_inpainter(args.vq)
        if not isinstance(vq, VQInpainter):
            raise MusicVAEError(f"--vq {args.vq} is not a VQ-VAE run")
    sketchnet = None
    if args.sketchnet:
        from musicvae_tf.models.sketchnet.inpaint import load_sketchnet

        sketchnet = load_sketchnet(args.sketchnet)
    return evaluate_run(inpainter, args.data, args.split, Path(args.out), protocols, searcher,
                        max_windows=args.max_windows, batch_size=args.batch_size,
                        search_steps=args.search_steps, seed=args.seed,
                        progress=not args.no_progress, model_name=str(args.model),
                        searcher_name=args.hierarchical, vq=vq, vq_name=args.vq,
                        sketchnet=sketchnet, sketchnet_name=args.sketchnet)

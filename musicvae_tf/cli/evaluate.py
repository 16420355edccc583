"""``musicvae-tf evaluate``: a trained model on a prepared split, as its family evaluates it (MusicVAE:
reconstruction accuracy, NLL, KL, ELBO and active units; inpainting: the gap protocols)."""

from __future__ import annotations

import argparse
from pathlib import Path

from musicvae_tf.cli.generation_args import seed_value
from data_pipelines.errors import UsageError

HELP = ("evaluate a trained, shipped or imported model on a prepared split (accuracies, NLL, KL, "
        "ELBO, active units, z-shuffle gap)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``evaluate``."""
    parser.add_argument("--model", "--run-dir", dest="model", required=True, metavar="MODEL",
                        help="run dir written by musicvae-tf train, a folder written by "
                        "import-magenta, or a shipped model's name")
    parser.add_argument("--data", required=True, help="folder written by musicvae-tf prepare")
    parser.add_argument("--split", default="test", help="train, eval or test (default test)")
    parser.add_argument("--batch-size", type=int, default=256, help="sequences per batch")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="temperature of the fully sampled accuracy (default 1.0, as in the "
                        "MusicVAE paper; greedy accuracy is always reported too)")
    parser.add_argument("--seed", type=seed_value, default=0, help="seed of the sampled decodings")
    parser.add_argument("--out", help="JSON file to write (default MODEL/eval_SPLIT.json; "
                        "./eval_NAME_SPLIT.json for a shipped model)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Load the run's model, evaluate it on the split, print a table and write the JSON."""
    from data_pipelines.data_dir import check_prepared_data
    from musicvae_tf.training.run_files import read_run_config

    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
    if not args.temperature >= 0:
        raise UsageError(f"--temperature must be >= 0, got {args.temperature}")
    from musicvae_tf.cli.output_paths import check_output_file
    from data_pipelines.errors import MusicVAEError
    from musicvae_tf.pretrained import pretrained_root, resolve_model

    run_dir = resolve_model(args.model)
    config = read_run_config(run_dir)
    if config is None:
        raise MusicVAEError(f"{run_dir} is not a model dir (no config.yaml)")
    check_prepared_data(args.data, config.data, args.split)
    if args.out:
        out = Path(args.out)
    elif run_dir.resolve().parent == pretrained_root().resolve():
        out = Path(f"eval_{run_dir.name}_{args.split}.json")
    else:
        out = run_dir / f"eval_{args.split}.json"
    check_output_file(out)

    from musicvae_tf.models.registry import family_hooks

    return family_hooks(config.family).evaluate(args, run_dir, out)

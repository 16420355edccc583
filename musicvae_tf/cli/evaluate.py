"""``musicvae-tf evaluate``: reconstruction accuracy, NLL, KL, ELBO and active units on a split."""

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

    from rich.console import Console
    from rich.progress import Progress

    from data_pipelines.reader import make_dataset
    from musicvae_tf.evaluation import evaluate_model
    from data_pipelines.io_utils import write_json
    from musicvae_tf.training.run_files import load_run_model

    model, config, source = load_run_model(run_dir)
    dataset = make_dataset(args.data, args.split, config.data, args.batch_size, training=False)
    with Progress(console=Console(stderr=True), disable=args.no_progress, transient=True) as bar:
        task = bar.add_task(f"evaluate {args.split}", total=None)
        result = evaluate_model(model, dataset, num_bars=config.data.num_bars,
                                temperature=args.temperature, seed=args.seed,
                                progress=lambda done: bar.update(task, completed=done))
    if result["num_sequences"] == 0:
        raise MusicVAEError(f"the {args.split} split of {args.data} holds no windows")
    result = {"run_dir": str(run_dir), "model": source, "config": config.name,
              "data": str(args.data), "split": args.split, **result}
    write_json(out, result)
    _print_table(result, out)
    return 0


def _print_table(result: dict, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['config']} on {result['split']} "
                        f"({result['num_sequences']} sequences, z = posterior mean)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("teacher-forced accuracy", f"{result['teacher_forced_accuracy']:.3f}"),
        (f"sampled accuracy (T={result['sampling_temperature']:g})",
         f"{result['sampled_accuracy']:.3f}"),
        ("sampled accuracy (greedy)", f"{result['sampled_accuracy_greedy']:.3f}"),
        ("majority-token accuracy (chance)", f"{result['majority_token_accuracy']:.3f}"),
        ("reconstruction NLL (nats/seq)", f"{result['reconstruction_nll']:.2f}"),
        ("KL (bits/seq)", f"{result['kl_bits']:.2f}"),
        ("ELBO (nats/seq)", f"{result['elbo']:.2f}"),
        ("active latent units", f"{result['active_units']} / {result['latent_dim']}"),
        ("z-shuffle gap (points; ~0 = z ignored)", f"{100 * result['z_shuffle_gap']:.1f}"),
    ]
    for name, values in result.get("per_bar_accuracy", {}).items():
        rows.append((f"per-bar {name.replace('_', ' ')}", " ".join(f"{v:.2f}" for v in values)))
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)
    print(f"wrote {out}")

"""MusicVAE's hooks for the registry: train, evaluate, check a loaded model against its config,
and rebuild a model from a checkpoint."""

from __future__ import annotations

from pathlib import Path

from data_pipelines.errors import MusicVAEError
from musicvae_tf.models.loading import refuse_mismatched_model, restore_trained_variables

KERAS_MODULES = ("musicvae_tf.models.music_vae.model",)


def check_model(model, config, model_path: str | Path) -> None:
    """Refuse a model whose sizes or window format differ from the ``config.yaml`` beside it."""
    from musicvae_tf.models.music_vae.model import config_mismatches

    refuse_mismatched_model(config_mismatches(model, config), model_path)


def restore_checkpoint(config, checkpoint: str):
    """A freshly built MusicVAE holding the variables of ``checkpoint`` (a run still training)."""
    from musicvae_tf.models.music_vae.model import build_model
    from musicvae_tf.models.music_vae.task import model_state_objects

    if config.section("curriculum") is not None:
        from musicvae_tf.models.music_vae.curriculum import restore_stage_checkpoint

        return restore_stage_checkpoint(config, checkpoint)
    model = build_model(config)
    return restore_trained_variables(model, checkpoint, **model_state_objects(model))


def train(config, data_dir, run_dir, *, steps=None, **options) -> int:
    """Train (or resume) a MusicVAE in ``run_dir`` (every unfinished stage of a ``curriculum``),
    print the last metrics; the exit code."""
    from musicvae_tf.cli.run_options import SIGNAL_EXIT_CODES
    from musicvae_tf.models.music_vae.task import VAETask, diagnostic_batch, vae_dataset_fn
    from musicvae_tf.training.trainer import train as run_trainer

    if config.section("curriculum") is not None:
        from musicvae_tf.models.music_vae.curriculum import train_curriculum

        code = 0
        for stage in train_curriculum(config, data_dir, run_dir, steps=steps, **options):
            if stage.result is None:
                print(f"stage {stage.name}: already ended ({stage.run_dir})")
                continue
            _report(f"{config.name} stage {stage.name}", stage.result)
            code = SIGNAL_EXIT_CODES.get(stage.result.stop_reason, 0)
        return code

    def held_out():
        return diagnostic_batch(data_dir, config)

    result = run_trainer(lambda: VAETask(config, diagnostic_batch=held_out),
                         vae_dataset_fn(data_dir, config), run_dir, config, steps=steps,
                         **options)
    _report(config.name, result)
    return SIGNAL_EXIT_CODES.get(result.stop_reason, 0)


def _report(name: str, result) -> None:
    metrics = result.last_metrics
    if metrics:
        parts = [f"{name}: step {result.final_step}", f"loss {metrics['loss']:.3f}"]
        if "reconstruction" in metrics:
            parts.append(f"recon {metrics['reconstruction']:.3f}")
        if "latent_loss" in metrics:
            parts.append(f"latent loss {metrics['latent_loss']:.1f}")
        parts.append(f"KL {metrics.get('kl_bits', float('nan')):.2f} bits")
        if "accuracy" in metrics:
            parts.append(f"accuracy {metrics['accuracy']:.3f}")
        parts += [f"active units {metrics.get('active_units', '-')}",
                  f"z-shuffle gap {100 * metrics.get('z_shuffle_gap', float('nan')):.1f} points",
                  f"({metrics['steps_per_sec']:.2f} steps/s)"]
        print("  ".join(parts))
    if result.model_path is not None:
        print(f"model: {result.model_path}  checkpoint: {result.checkpoint}")


def evaluate(args, run_dir: Path, out: Path) -> int:
    """``musicvae-tf evaluate`` of a MusicVAE: accuracies, NLL, KL, ELBO, active units, z-shuffle
    gap on a split; prints a table and writes the JSON to ``out``."""
    from rich.console import Console
    from rich.progress import Progress

    from data_pipelines.encodings import encoding_for
    from data_pipelines.io_utils import write_json
    from data_pipelines.reader import make_dataset
    from musicvae_tf.models.loading import load_run_model
    from musicvae_tf.models.music_vae.evaluation import evaluate_interpolation, evaluate_model

    model, config, source = load_run_model(run_dir)
    dataset = make_dataset(args.data, args.split, config.data, args.batch_size, training=False)
    with Progress(console=Console(stderr=True), disable=args.no_progress, transient=True) as bar:
        task = bar.add_task(f"evaluate {args.split}", total=None)
        result = evaluate_model(model, dataset, num_bars=config.data.num_bars,
                                temperature=args.temperature, seed=args.seed,
                                encoding=encoding_for(config.data),
                                progress=lambda done: bar.update(task, completed=done))
    if result["num_sequences"] == 0:
        raise MusicVAEError(f"the {args.split} split of {args.data} holds no windows")
    interpolation = evaluate_interpolation(model, dataset, encoding=encoding_for(config.data))
    if interpolation:
        result["interpolation"] = interpolation
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
    interpolation = result.get("interpolation")
    if interpolation:
        for end in ("a", "b"):
            rows.append((f"interpolation to {end.upper()} (greedy)",
                         " ".join(f"{v:.2f}" for v in interpolation[f"accuracy_to_{end}"])))
    for name, values in result.get("per_bar_accuracy", {}).items():
        rows.append((f"per-bar {name.replace('_', ' ')}", " ".join(f"{v:.2f}" for v in values)))
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)
    print(f"wrote {out}")

"""The pianotree family's hooks for the registry: train, evaluate (note F1), check a loaded model
and rebuild one from a checkpoint."""

from __future__ import annotations

from pathlib import Path

from musicvae_tf.models.loading import refuse_mismatched_model, restore_trained_variables

KERAS_MODULES = ("musicvae_tf.models.pianotree.model", "musicvae_tf.models.pianotree.pianoroll")
KERAS_KEYS = ("name", "trainable", "dtype")  # a model's config entries that are not its sizes


def check_model(model, config, model_path: str | Path) -> None:
    """Refuse a model whose sizes differ from the ``config.yaml`` beside it."""
    from musicvae_tf.models.pianotree.model import build_model

    expected = build_model(config).get_config()
    refuse_mismatched_model([f"{key} {value}/{expected[key]}"
                             for key, value in model.get_config().items()
                             if key in expected and key not in KERAS_KEYS
                             and value != expected[key]], model_path)


def restore_checkpoint(config, checkpoint: str):
    """A freshly built model holding the variables of ``checkpoint``."""
    from musicvae_tf.models.pianotree.model import build_model

    return restore_trained_variables(build_model(config), checkpoint)


def train(config, data_dir, run_dir, *, steps=None, **options) -> int:
    """Train (or resume) a PianoTree VAE in ``run_dir``; prints the last metrics."""
    from musicvae_tf.cli.run_options import SIGNAL_EXIT_CODES
    from musicvae_tf.models.music_vae.task import vae_dataset_fn
    from musicvae_tf.models.pianotree.task import PianoTreeTask
    from musicvae_tf.training.trainer import train as run_trainer

    result = run_trainer(lambda: PianoTreeTask(config), vae_dataset_fn(data_dir, config),
                         run_dir, config, steps=steps, **options)
    metrics = result.last_metrics
    if metrics:
        values = "  ".join(f"{key} {metrics[key]:.3f}" for key in
                           ("reconstruction", "pitch_accuracy", "duration_accuracy", "kl_bits")
                           if key in metrics)
        print(f"step {result.final_step}  loss {metrics['loss']:.3f}  {values}")
    if result.model_path is not None:
        print(f"model: {result.model_path}")
    return SIGNAL_EXIT_CODES.get(result.stop_reason, 0)


def evaluate(args, run_dir: Path, out: Path) -> int:
    """``musicvae-tf evaluate``: onset and note precision / recall / F1 of reconstructions,
    teacher forced and greedy fully sampled; prints a table and writes JSON to ``out``."""
    from data_pipelines.io_utils import write_json
    from musicvae_tf.models.loading import load_run_model
    from musicvae_tf.models.pianotree.evaluate import evaluate_f1, print_table

    model, config, source = load_run_model(run_dir)
    result = evaluate_f1(model, config, args.data, args.split, args.batch_size)
    result = {"run_dir": str(run_dir), "model": source, "config": config.name,
              "data": str(args.data), "split": args.split, **result}
    write_json(out, result)
    print_table(result)
    print(f"wrote {out}")
    return 0

"""The sketch_vae family's hooks: train the SketchVAE on every bar of the prepared windows,
evaluate its reconstruction, check a loaded model, rebuild one from a checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from musicvae_tf.models.loading import refuse_mismatched_model, restore_trained_variables

KERAS_MODULES = ("musicvae_tf.models.sketch_vae.layers", "musicvae_tf.models.sketch_vae.model")


def config_mismatches(model, config) -> list[str]:
    """``name model/config`` for each size where the model differs from ``config``."""
    from musicvae_tf.models.sketch_vae.config import sketch_vae_settings

    settings = sketch_vae_settings(config)
    pairs = {"units": settings.units, "encoder_layers": settings.encoder_layers,
             "pitch_latent": settings.pitch_latent, "rhythm_latent": settings.rhythm_latent,
             "beats": settings.beats, "num_classes": config.data.num_classes,
             "steps_per_bar": config.data.steps_per_bar}
    return [f"{key} {getattr(model, key, None)}/{value}" for key, value in pairs.items()
            if getattr(model, key, None) != value]


def check_model(model, config, model_path: str | Path) -> None:
    """Refuse a model whose sizes differ from the ``config.yaml`` beside it."""
    refuse_mismatched_model(config_mismatches(model, config), model_path)


def restore_checkpoint(config, checkpoint: str):
    """A freshly built SketchVAE holding the variables of ``checkpoint``."""
    from musicvae_tf.models.sketch_vae.model import build_sketch_vae

    return restore_trained_variables(build_sketch_vae(config), checkpoint)


def train(config, data_dir, run_dir, *, steps=None, **options) -> int:
    """Train (or resume) the SketchVAE in ``run_dir`` on the bars of the training windows."""
    from musicvae_tf.cli.run_options import SIGNAL_EXIT_CODES
    from musicvae_tf.models.inpainting.training import measure_vae_dataset_fn
    from musicvae_tf.models.sketch_vae.task import SketchVAETask
    from musicvae_tf.training.trainer import train as run_trainer

    result = run_trainer(lambda: SketchVAETask(config), measure_vae_dataset_fn(
        data_dir, config, config), run_dir, config, steps=steps, **options)
    report("SketchVAE", result, ("reconstruction", "accuracy", "kl_pitch_bits", "kl_rhythm_bits"))
    return SIGNAL_EXIT_CODES.get(result.stop_reason, 0)


def report(stage: str, result, keys) -> None:
    """Print a stage's last logged metrics and where its model is."""
    metrics = result.last_metrics
    if metrics:
        values = "  ".join(f"{key} {metrics[key]:.3f}" for key in keys if key in metrics)
        print(f"{stage}: step {result.final_step}  loss {metrics['loss']:.3f}  {values}")
    if result.model_path is not None:
        print(f"{stage} model: {result.model_path}")


def bar_accuracy(model, bars: np.ndarray, batch_size: int = 512) -> dict:
    """Reconstruction of token bars ``[N, S]`` from their posterior means: teacher-forced and
    greedy free-running token accuracy, and the greedy output's rhythm-row accuracy."""
    from musicvae_tf.models.sketch_vae.factorise import rhythm_row

    sums = {"teacher_forced": 0.0, "greedy": 0.0, "rhythm": 0.0}
    for start in range(0, len(bars), batch_size):
        chunk = bars[start:start + batch_size]
        z = model.latents(chunk)
        logits = np.asarray(model.decode_logits(z, chunk))
        greedy = model.sample_tokens(z)
        sums["teacher_forced"] += float((logits.argmax(-1) == chunk).sum())
        sums["greedy"] += float((greedy == chunk).sum())
        sums["rhythm"] += float((np.asarray(rhythm_row(greedy)) == np.asarray(rhythm_row(chunk))).sum())
    return {f"{key}_accuracy": value / max(bars.size, 1) for key, value in sums.items()}


def evaluate(args, run_dir: Path, out: Path) -> int:
    """``musicvae-tf evaluate`` of a SketchVAE run: bar reconstruction on the split; JSON."""
    from data_pipelines.io_utils import write_json
    from musicvae_tf.models.inpainting.evaluate import read_windows
    from musicvae_tf.models.loading import load_run_model

    model, config, source = load_run_model(run_dir)
    windows = read_windows(args.data, args.split, config.data)
    bars = windows.reshape(-1, config.data.steps_per_bar)
    result = {"run_dir": str(run_dir), "model": source, "config": config.name,
              "data": str(args.data), "split": args.split, "bars": int(len(bars)),
              **bar_accuracy(model, bars, args.batch_size)}
    write_json(out, result)
    for key, value in result.items():
        print(f"{key}: {value}")
    print(f"wrote {out}")
    return 0

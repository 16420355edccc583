"""The inpainting family's hooks for the registry: train both stages, evaluate on the gap
protocols, check a loaded model against its config."""

from __future__ import annotations

from pathlib import Path

from data_pipelines.errors import MusicVAEError

KERAS_MODULES = ("musicvae_tf.models.inpainting.inpaint_model",)


def check_model(model, config, model_path: str | Path) -> None:
    """Refuse a model that fills other gaps than the ``config.yaml`` beside it says."""
    from musicvae_tf.models.inpainting.config import LatentRNNSettings

    max_gap = LatentRNNSettings.from_config(config).max_gap
    if getattr(model, "max_gap", max_gap) != max_gap:
        raise MusicVAEError(f"{model_path} fills gaps of up to {model.max_gap} bars but the "
                            f"config.yaml beside it says {max_gap}; the run dir is inconsistent")


def restore_checkpoint(config, checkpoint: str):
    """An inpainting model is used from its exported ``model.keras`` only."""
    raise MusicVAEError(f"{checkpoint}: an inpainting run is loaded from its model.keras; "
                        "let train-inpainting finish (or stop it cleanly) first")


def train(config, data_dir, run_dir, *, steps=None, measure_steps=None, measure_overrides=None,
          measure_run=None, stage: str = "both", **options) -> int:
    """Train (or resume) the measure VAE (``RUN/measure_vae`` unless ``measure_run``), then the
    latent RNN in ``run_dir``; the exit code."""
    from musicvae_tf.cli.run_options import SIGNAL_EXIT_CODES
    from musicvae_tf.models.inpainting.measure_vae import measure_vae_config
    from musicvae_tf.models.inpainting.training import (MEASURE_VAE_DIR, latent_rnn_dataset_fn,
                                                        measure_vae_dataset_fn, train_latent_rnn,
                                                        train_measure_vae)

    measure_config = measure_vae_config(config, measure_overrides)
    measure_run = Path(measure_run) if measure_run else Path(run_dir) / MEASURE_VAE_DIR
    if stage in ("both", "measure-vae"):
        result = train_measure_vae(measure_config, measure_run,
                                   measure_vae_dataset_fn(data_dir, config, measure_config),
                                   steps=measure_steps, **options)
        _report("measure VAE", result)
        if result.stop_reason in SIGNAL_EXIT_CODES:
            return SIGNAL_EXIT_CODES[result.stop_reason]
        # A stop on --minutes is clean: the latent RNN gets its own budget on this measure VAE.
    if stage in ("both", "latent-rnn"):
        result = train_latent_rnn(config, run_dir, measure_run,
                                  latent_rnn_dataset_fn(data_dir, config), steps=steps, **options)
        _report("latent RNN", result)
        return SIGNAL_EXIT_CODES.get(result.stop_reason, 0)
    return 0


def _report(stage: str, result) -> None:
    metrics = result.last_metrics
    if metrics:
        print(f"{stage}: step {result.final_step}  loss {metrics['loss']:.3f}  "
              f"accuracy {metrics.get('accuracy', float('nan')):.3f}  "
              f"({metrics['steps_per_sec']:.2f} steps/s)")
    if result.model_path is not None:
        print(f"{stage} model: {result.model_path}")


def evaluate(args, run_dir: Path, out: Path) -> int:
    """``musicvae-tf evaluate`` of an inpainting run: both gap protocols on the split."""
    from musicvae_tf.models.inpainting.evaluate import evaluate_run
    from musicvae_tf.models.inpainting.inpaint import load_inpainter

    return evaluate_run(load_inpainter(run_dir), args.data, args.split, out,
                        batch_size=args.batch_size, seed=args.seed,
                        progress=not args.no_progress, model_name=str(args.model))

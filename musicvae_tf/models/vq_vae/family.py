"""The vq_vae family's hooks for the registry: train both stages (the VQ-VAE in ``RUN``, then the
code prior in ``RUN/prior`` on the frozen encoder's codes), evaluate, check a loaded model, rebuild
one from a checkpoint, and the code prior ``TrainedModel`` samples from."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from data_pipelines.errors import MusicVAEError
from musicvae_tf.models.loading import refuse_mismatched_model, restore_trained_variables
from musicvae_tf.training.run_files import MODEL_FILE

KERAS_MODULES = ("musicvae_tf.models.vq_vae.model", "musicvae_tf.models.vq_vae.prior")
PRIOR_DIR = "prior"
INTERPOLATION_SPACE = ("interpolated in the pre-quantisation space (the encoder's per-bar "
                       "vectors before the codebook); each point is snapped to its nearest codes "
                       "before decoding")


def check_model(model, config, model_path: str | Path) -> None:
    """Refuse a model whose sizes differ from the ``config.yaml`` beside it."""
    from musicvae_tf.models.vq_vae.model import config_mismatches

    refuse_mismatched_model(config_mismatches(model, config), model_path)


def restore_checkpoint(config, checkpoint: str):
    """A freshly built VQ-VAE holding the variables (codebook included) of ``checkpoint``."""
    from musicvae_tf.models.music_vae.task import model_state_objects
    from musicvae_tf.models.vq_vae.model import build_model

    model = build_model(config)
    return restore_trained_variables(model, checkpoint, **model_state_objects(model))


class CodePriorSampler:
    """``TrainedModel``'s prior for a VQ-VAE: code sequences drawn from ``RUN/prior`` and turned
    into the flat code vectors the model decodes (its "z")."""

    interpolation_space = INTERPOLATION_SPACE

    def __init__(self, model, prior_path: Path | None):
        self.model = model
        self.prior_path = prior_path
        self._prior = None
        self.latent_dim = model.num_bars * model.latent_dim

    @property
    def prior(self):
        """The trained code prior (loaded on first use)."""
        if self._prior is None:
            from musicvae_tf.models.loading import load_keras_file

            if self.prior_path is None or not self.prior_path.is_file():
                raise MusicVAEError(f"no code prior at {self.prior_path}: train the prior stage "
                                    "(musicvae-tf train with prior.num_steps > 0) first")
            self._prior = load_keras_file(self.prior_path, "code prior")
        return self._prior

    def sample_codes(self, n: int, seed: int | None = None, temperature: float = 1.0):
        """Codes int32 ``[n, U, G]``."""
        seed = int(np.random.default_rng().integers(2**31 - 1)) if seed is None else int(seed)
        return self.prior.sample(n, temperature, seed)

    def sample(self, n: int, seed: int | None = None, temperature: float = 1.0) -> np.ndarray:
        """Flat code vectors float32 ``[n, U * latent_dim]`` of ``n`` prior draws."""
        return np.asarray(self.model.code_vectors(self.sample_codes(n, seed, temperature)))


def latent_prior(model, config, model_path: Path | None):
    """The :class:`CodePriorSampler` of a loaded VQ-VAE (``RUN/prior/model.keras``)."""
    prior = None if model_path is None else Path(model_path).parent / PRIOR_DIR / MODEL_FILE
    return CodePriorSampler(model, prior)


def prior_config(config):
    """The config stage 2 trains under: the prior's batch size and steps."""
    from musicvae_tf.models.vq_vae.config import prior_settings

    settings = prior_settings(config)
    return dataclasses.replace(config, training=dataclasses.replace(
        config.training, batch_size=settings.batch_size, num_steps=settings.num_steps))


def window_codes(model, data_dir, split: str, config, batch_size: int = 256) -> np.ndarray:
    """Codes int32 ``[N, U, G]`` of every window of a prepared split (no augmentation)."""
    from data_pipelines.reader import make_dataset

    chunks = [np.asarray(model.codes(inputs)) for inputs, _ in
              make_dataset(str(data_dir), split, config.data, batch_size, training=False)]
    if not chunks:
        raise MusicVAEError(f"{data_dir} has no {split} windows to train the code prior on")
    return np.concatenate(chunks).astype(np.int32)


def _codes_dataset_fn(codes: np.ndarray, batch_size: int, seed: int):
    import tensorflow as tf

    def dataset_fn(input_context, start_step: int = 0):
        dataset = tf.data.Dataset.from_tensor_slices(codes)
        return dataset.shuffle(len(codes), seed=seed + int(start_step)).repeat() \
            .batch(batch_size, drop_remainder=len(codes) >= batch_size)

    return dataset_fn


def train(config, data_dir, run_dir, *, steps=None, **options) -> int:
    """Train (or resume) the VQ-VAE in ``run_dir`` for ``steps`` (default ``training.num_steps``),
    then the code prior in ``run_dir/prior`` for ``prior.num_steps`` (skipped at 0); ``minutes``
    is a budget per stage. Retraining stage 1 later leaves a prior trained on older codes: train
    the prior in a new run dir then."""
    from musicvae_tf.cli.run_options import SIGNAL_EXIT_CODES
    from musicvae_tf.models.loading import load_run_model
    from musicvae_tf.models.music_vae.task import diagnostic_batch, vae_dataset_fn
    from musicvae_tf.models.vq_vae.task import PriorTask, VQTask
    from musicvae_tf.training.trainer import train as run_trainer

    result = run_trainer(lambda: VQTask(config, diagnostic_batch=lambda: diagnostic_batch(
        data_dir, config)), vae_dataset_fn(data_dir, config), run_dir, config, steps=steps,
        **options)
    _report("VQ-VAE", result, ("reconstruction", "accuracy", "code_perplexity", "code_usage",
                               "held_out_code_shuffle_gap"))
    if result.stop_reason in SIGNAL_EXIT_CODES:
        return SIGNAL_EXIT_CODES[result.stop_reason]
    stage2 = prior_config(config)
    if stage2.training.num_steps <= 0:
        return 0
    model, _, _ = load_run_model(run_dir)
    codes = window_codes(model, data_dir, "train", config)
    result = run_trainer(lambda: PriorTask(stage2),
                         _codes_dataset_fn(codes, stage2.training.batch_size, config.training.seed),
                         Path(run_dir) / PRIOR_DIR, stage2, **options)
    _report("code prior", result, ("code_accuracy", "code_bits_per_bar"))
    return SIGNAL_EXIT_CODES.get(result.stop_reason, 0)


def _report(stage: str, result, keys) -> None:
    metrics = result.last_metrics
    if metrics:
        values = "  ".join(f"{key} {metrics[key]:.3f}" for key in keys if key in metrics)
        print(f"{stage}: step {result.final_step}  loss {metrics['loss']:.3f}  {values}  "
              f"({metrics['steps_per_sec']:.2f} steps/s)")
    if result.model_path is not None:
        print(f"{stage} model: {result.model_path}")


def evaluate(args, run_dir: Path, out: Path) -> int:
    """``musicvae-tf evaluate`` of a VQ-VAE run: reconstruction, codebook use, and (with a
    trained prior) code NLL and 6/4/6 inpainting of the split; prints a table, writes JSON."""
    from data_pipelines.io_utils import write_json
    from musicvae_tf.models.loading import load_run_model
    from musicvae_tf.models.vq_vae.evaluate import evaluate_vq, print_table

    model, config, source = load_run_model(run_dir)
    prior = latent_prior(model, config, Path(run_dir) / MODEL_FILE)
    result = evaluate_vq(model, config, args.data, args.split, args.batch_size,
                         args.temperature, args.seed,
                         prior=prior.prior if prior.prior_path.is_file() else None)
    result = {"run_dir": str(run_dir), "model": source, "config": config.name,
              "data": str(args.data), "split": args.split, **result}
    write_json(out, result)
    print_table(result)
    print(f"wrote {out}")
    return 0

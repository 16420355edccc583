"""Two-stage training of the inpainting system with the generic trainer.

Stage 1, the measure VAE: the ordinary MusicVAE task (``VAETask``, SPEC §4 loss and schedules) on
every bar of the prepared 16-bar windows; run dir ``R/measure_vae`` (or one given by the user).
Stage 2, the latent RNN: :class:`LatentRNNTask` with the stage-1 model loaded frozen inside the
strategy scope; run dir ``R``. Its ``config.yaml`` records the measure VAE run it used, and its
``model.keras`` embeds that measure VAE, so ``R`` alone is enough for inference.

Both stages resume from their checkpoints when rerun, under any strategy the trainer offers.
A latent-RNN checkpoint also holds the frozen measure VAE it was trained with, so after retraining
the measure VAE, train the latent RNN in a new run dir.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from musicvae_tf.config import Config
from data_pipelines.errors import MusicVAEError

MEASURE_VAE_DIR = "measure_vae"


def measure_vae_dataset_fn(data_dir: str | Path, inpaint_config: Config, measure_config: Config):
    """``dataset_fn(input_context, start_step)`` yielding one-bar ``(one_hot, tokens)`` batches.

    Reads whole windows in the inpainting data format and splits each into its bars; a batch holds
    ``training.batch_size // num_bars`` windows' bars (at least one window).
    """
    from data_pipelines.reader import make_dataset
    from musicvae_tf.models.inpainting.measure_vae import bars_of_windows

    windows_per_batch = max(1, measure_config.training.batch_size // inpaint_config.data.num_bars)
    steps_per_bar = inpaint_config.data.steps_per_bar

    def dataset_fn(input_context, start_step: int = 0):
        windows = make_dataset(str(data_dir), "train", inpaint_config.data, windows_per_batch,
                               training=True, seed=measure_config.training.seed + int(start_step),
                               input_context=input_context)
        return windows.map(lambda one_hot, tokens: bars_of_windows(one_hot, tokens, steps_per_bar))

    return dataset_fn


def latent_rnn_dataset_fn(data_dir: str | Path, config: Config):
    """``dataset_fn(input_context, start_step)`` of windows with a random split per batch."""
    from data_pipelines.reader import make_dataset
    from musicvae_tf.models.inpainting.inpaint_task import inpainting_dataset

    def dataset_fn(input_context, start_step: int = 0):
        seed = config.training.seed + int(start_step)
        windows = make_dataset(str(data_dir), "train", config.data, config.training.batch_size,
                               training=True, seed=seed, input_context=input_context)
        return inpainting_dataset(windows, config, seed)

    return dataset_fn


def train_measure_vae(measure_config: Config, run_dir, dataset_fn, steps=None, **train_options):
    """Train (or resume) stage 1 in ``run_dir`` on one-bar batches from ``dataset_fn``
    (normally :func:`measure_vae_dataset_fn`); returns the trainer's ``TrainingResult``."""
    from musicvae_tf.training.trainer import train
    from musicvae_tf.models.music_vae.task import VAETask

    return train(lambda: VAETask(measure_config), dataset_fn, run_dir, measure_config,
                 steps=steps, **train_options)


def with_measure_vae_run(config: Config, measure_run: str | Path) -> Config:
    """``config`` with ``measure_vae.run`` set to the (absolute) stage-1 run dir it builds on."""
    from musicvae_tf.models.inpainting.config import MeasureVAESection

    section = config.section("measure_vae") or MeasureVAESection()
    section = dataclasses.replace(section, run=str(Path(measure_run).resolve()))
    return dataclasses.replace(config, sections={**config.sections, "measure_vae": section})


def build_inpainting_model(config: Config, measure_vae):
    """A fresh :class:`InpaintingModel` around a (trained) measure VAE."""
    from musicvae_tf.models.inpainting.inpaint_model import InpaintingModel
    from musicvae_tf.models.inpainting.config import LatentRNNSettings
    from musicvae_tf.models.inpainting.latent_rnn import LatentRNN

    settings = LatentRNNSettings.from_config(config)
    rnn = LatentRNN(measure_vae.latent_dim, settings.context_units, settings.context_layers,
                    name="latent_rnn")
    model = InpaintingModel(measure_vae, rnn, settings.max_gap, name="inpainting_model")
    model.build()
    return model


def load_measure_vae(measure_run: str | Path):
    """The trained stage-1 MusicVAE of a run dir, with a clear error when it is not there."""
    from musicvae_tf.models.loading import load_keras_file
    from musicvae_tf.training.run_files import MODEL_FILE

    path = Path(measure_run) / MODEL_FILE
    if not path.is_file():
        raise MusicVAEError(f"measure VAE not found: {path} (train stage 1 first)")
    return load_keras_file(path, "measure VAE")


def train_latent_rnn(config: Config, run_dir, measure_run, dataset_fn, steps=None, **train_options):
    """Train (or resume) stage 2 in ``run_dir`` on top of the measure VAE in ``measure_run``, on
    batches from ``dataset_fn`` (normally :func:`latent_rnn_dataset_fn`)."""
    from musicvae_tf.models.inpainting.inpaint_task import LatentRNNTask
    from musicvae_tf.training.trainer import train

    config = with_measure_vae_run(config, measure_run)

    def task_builder():
        measure_vae = load_measure_vae(measure_run)
        if measure_vae.num_bars != 1 or measure_vae.steps_per_bar != config.data.steps_per_bar:
            raise MusicVAEError(f"{measure_run} is not a one-bar measure VAE with "
                                f"{config.data.steps_per_bar} steps per bar")
        return LatentRNNTask(build_inpainting_model(config, measure_vae), config)

    return train(task_builder, dataset_fn, run_dir, config, steps=steps, **train_options)

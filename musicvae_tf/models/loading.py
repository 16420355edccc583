"""The one model loader: a run dir, a ``.keras`` file or a shipped model's name -> the model and
its config, whatever the family (``TrainedModel.load``, ``evaluate``, inpainting, the measure VAE
of an inpainting run all come here)."""

from __future__ import annotations

from pathlib import Path

from data_pipelines.errors import MusicVAEError
from musicvae_tf.config import Config, config_from_dict, load_config
from musicvae_tf.training.run_files import CHECKPOINT_DIR, CONFIG_FILE, MODEL_FILE, read_run_config


def load_keras_file(path: str | Path, what: str = "model"):
    """Deserialise a ``.keras`` file written by any family (and before the move to
    ``musicvae_tf/models/``: classes are found by their registered ``musicvae_tf>Name``)."""
    import keras

    from musicvae_tf.models.registry import register_keras_classes

    register_keras_classes()
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a corrupt or foreign file.
        raise MusicVAEError(f"cannot load {what} {path}: {type(exc).__name__}: {exc}") from None


def load_run_model(run_dir: str | Path):
    """``(model, config, source)`` of a run dir: ``R/model.keras`` when it exists, else the
    newest checkpoint in ``R/ckpt`` restored into a freshly built model (a run still training)."""
    import tensorflow as tf

    from musicvae_tf.models.registry import family_hooks

    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if config is None:
        raise MusicVAEError(f"{run_dir} is not a training run dir (no {CONFIG_FILE})")
    hooks = family_hooks(config.family)
    model_path = run_dir / MODEL_FILE
    if model_path.is_file():
        model = load_keras_file(model_path)
        hooks.check_model(model, config, model_path)
        return model, config, str(model_path)
    from musicvae_tf.training.checkpoints import unreadable_checkpoint

    try:
        latest = tf.train.latest_checkpoint(str(run_dir / CHECKPOINT_DIR))
    except (tf.errors.OpError, ValueError) as exc:  # ValueError: a "checkpoint" file that is not text
        raise unreadable_checkpoint(str(run_dir / CHECKPOINT_DIR / "checkpoint"), exc) from None
    if latest is None:
        raise MusicVAEError(f"{run_dir} has neither {MODEL_FILE} nor a checkpoint")
    return hooks.restore_checkpoint(config, latest), config, latest


def load_model(name_or_path: str | Path):
    """``(model, config, path)`` of a run dir, a ``.keras`` file or a shipped model's name; a
    ``.keras`` file's config is the ``config.yaml`` beside it, else the one the model stores."""
    from musicvae_tf.models.registry import family_hooks
    from musicvae_tf.pretrained import resolve_model

    path = resolve_model(name_or_path)
    if path.is_dir():
        model, config, _ = load_run_model(path)
        return model, config, path / MODEL_FILE
    if not path.is_file():
        raise MusicVAEError(f"model not found: {path} (give a run directory or a .keras file)")
    if path.suffix != ".keras":
        raise MusicVAEError(f"{path} is not a .keras model file")
    model = load_keras_file(path)
    config = _config_for(model, path)
    family_hooks(config.family).check_model(model, config, path)
    return model, config, path


def _config_for(model, model_file: Path) -> Config:
    """The config of a saved model: ``config.yaml`` beside it, else the one stored in the model."""
    beside = model_file.with_name(CONFIG_FILE)
    if beside.is_file():
        return load_config(beside)
    stored = getattr(model, "config", None)
    if isinstance(stored, Config):
        return stored
    if isinstance(stored, dict):
        return config_from_dict(stored)
    raise MusicVAEError(f"no {CONFIG_FILE} beside {model_file}: cannot tell how its windows are tokenised")


def refuse_mismatched_model(differences: list[str], model_path: str | Path) -> None:
    """The families' ``check_model`` verdict: a one-line error listing ``differences`` (each
    ``name model/config``) when there are any."""
    if differences:
        raise MusicVAEError(f"{model_path} does not match the {CONFIG_FILE} beside it "
                            f"(model/config: {', '.join(differences)}); the run dir is "
                            "inconsistent")


def restore_trained_variables(model, checkpoint: str, trained=None, **extra_objects):
    """``model`` (freshly built) holding the variables the trainer saved in ``checkpoint``.

    Keras 3 models are not in TensorFlow's checkpoint graph: the trainer saves the variables it
    trains (``trained``, by default all trainable ones, in model order) as the optimiser's and
    anything else as ``extra_objects`` (the task's ``extra_checkpoint_objects``, e.g. batch-norm
    statistics or a codebook).
    """
    import tensorflow as tf

    from musicvae_tf.training.checkpoints import checkpoint_read_errors, unreadable_checkpoint

    trained = list(model.trainable_variables if trained is None else trained)
    variables = tf.train.Checkpoint(_trainable_variables=trained)
    try:
        tf.train.Checkpoint(optimizer=variables, **extra_objects).restore(checkpoint) \
            .expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError) as exc:
        raise MusicVAEError(f"checkpoint {checkpoint} does not fit its run dir's config: "
                            f"{exc}") from None
    except checkpoint_read_errors() as exc:
        raise unreadable_checkpoint(checkpoint, exc) from None
    return model


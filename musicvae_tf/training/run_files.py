"""Files of a run dir besides checkpoints: the config it was trained with and the final model."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import yaml

from musicvae_tf.config import Config, config_from_dict
from data_pipelines.errors import MusicVAEError
from data_pipelines.io_utils import atomic_write_bytes

CONFIG_FILE = "config.yaml"
MODEL_FILE = "model.keras"
CHECKPOINT_DIR = "ckpt"
LOG_DIR = "logs"
METRICS_FILE = "metrics.jsonl"
CURVES_FILE = "training_curves.png"


def write_run_config(config: Config, run_dir: str | Path) -> Path:
    """Write ``R/config.yaml`` atomically."""
    path = Path(run_dir) / CONFIG_FILE
    text = yaml.safe_dump(config.to_dict(), sort_keys=False)
    return atomic_write_bytes(path, text.encode())


def read_run_config(run_dir: str | Path) -> Config | None:
    """The config saved in ``R/config.yaml``, or None when the run dir has none."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        return config_from_dict(yaml.safe_load(path.read_text()))
    except yaml.YAMLError as exc:
        raise MusicVAEError(f"{path} is not valid YAML: {exc}") from None


def check_resumable(saved: Config | None, requested: Config, run_dir: str | Path) -> None:
    """Refuse to resume a run whose saved model or data settings differ from ``requested``.

    Training settings (steps, schedules, ...) may change between restarts; the architecture and
    the token format may not, since the checkpoint would not fit. ``model.lstm_impl`` may: both
    implementations run over the same weights.
    """
    if saved is None:
        return
    for section in ("data", "model"):
        old, new = saved.to_dict()[section], requested.to_dict()[section]
        changed = sorted(k for k in set(old) | set(new)
                         if old.get(k) != new.get(k) and f"{section}.{k}" != "model.lstm_impl")
        if changed:
            raise MusicVAEError(
                f"run dir {run_dir} was trained with different {section} settings "
                f"({', '.join(f'{section}.{k}' for k in changed)}); use a new --run-dir")


def export_model(model, run_dir: str | Path) -> Path:
    """Save ``model`` as ``R/model.keras``; the file appears only once it is complete."""
    target = Path(run_dir) / MODEL_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        tmp = scratch / MODEL_FILE
        model.save(tmp)
        tmp.replace(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def check_model_matches(model, config: Config, model_path: str | Path) -> None:
    """Refuse a model whose sizes or window format differ from the ``config.yaml`` beside it."""
    from musicvae_tf.model import config_mismatches

    differences = config_mismatches(model, config)
    if differences:
        raise MusicVAEError(f"{model_path} does not match the {CONFIG_FILE} beside it "
                            f"(model/config: {', '.join(differences)}); the run dir is "
                            "inconsistent")


def load_run_model(run_dir: str | Path):
    """``(model, config, source)`` of a run dir: ``R/model.keras`` when it exists, else the
    newest checkpoint in ``R/ckpt`` restored into a freshly built model (a run still training)."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if config is None:
        raise MusicVAEError(f"{run_dir} is not a training run dir (no {CONFIG_FILE})")
    import keras
    import tensorflow as tf

    from musicvae_tf.model import build_model
    from musicvae_tf.training.vae_task import model_state_objects

    model_path = run_dir / MODEL_FILE
    if model_path.is_file():
        try:
            model = keras.saving.load_model(model_path)
        except (ValueError, OSError) as exc:
            raise MusicVAEError(f"cannot load {model_path}: {exc}") from None
        check_model_matches(model, config, model_path)
        return model, config, str(model_path)
    latest = tf.train.latest_checkpoint(str(run_dir / CHECKPOINT_DIR))
    if latest is None:
        raise MusicVAEError(f"{run_dir} has neither {MODEL_FILE} nor a checkpoint")
    model = build_model(config)
    # Keras 3 models do not list their variables in TensorFlow's checkpoint graph; the trainer's
    # checkpoints hold them as the optimiser's trainable variables (in model order).
    variables = tf.train.Checkpoint(_trainable_variables=list(model.trainable_variables))
    try:
        tf.train.Checkpoint(optimizer=variables, **model_state_objects(model)).restore(latest) \
            .expect_partial() \
            .assert_existing_objects_matched()
    except (AssertionError, ValueError) as exc:
        raise MusicVAEError(f"checkpoint {latest} does not fit {run_dir}'s config: {exc}") from None
    return model, config, latest

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

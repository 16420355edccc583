"""Clear errors for a data dir that is missing, half-prepared or prepared for a different format.

TensorFlow-free, so commands can refuse a bad ``--data`` before paying for importing TF.
"""

from __future__ import annotations

import json
from pathlib import Path

from data_pipelines.data_config import DataConfig
from data_pipelines.errors import MusicVAEError, UsageError

SPLITS = ("train", "eval", "test")
# prepare writes this file before it touches anything else in the data dir and removes it last.
INCOMPLETE_MARKER = "prepare.incomplete"
# Fields that fix the shape and meaning of the stored tokens; the others (programs, transposition,
# split fractions) only change which windows were kept or how they are augmented when read.
TOKEN_FORMAT_FIELDS = (
    "encoding", "num_bars", "steps_per_bar", "steps_per_quarter", "min_pitch", "max_pitch")


def check_prepared_data(data_dir: str | Path, data_config: DataConfig, split: str) -> Path:
    """Return ``data_dir`` if it holds ``split`` shards in the token format of ``data_config``."""
    if split not in SPLITS:
        raise UsageError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")
    path = Path(data_dir)
    if not path.is_dir():
        raise MusicVAEError(f"data directory not found: {path} (create it with musicvae-tf prepare)")
    if (path / INCOMPLETE_MARKER).exists():
        raise MusicVAEError(f"{path}: its last prepare did not finish (run musicvae-tf prepare "
                            "into it again)")
    info = path / "data_config.json"
    if not info.is_file():
        raise MusicVAEError(f"{path} has no data_config.json: prepare it with musicvae-tf prepare")
    try:
        prepared = json.loads(info.read_text())
    except ValueError as exc:
        raise MusicVAEError(f"{info} is not valid JSON: {exc}") from None
    prepared = prepared.get("data", prepared) if isinstance(prepared, dict) else {}
    differences = [f"{field} {prepared[field]} (data) vs {getattr(data_config, field)} (config)"
                   for field in TOKEN_FORMAT_FIELDS
                   if field in prepared and prepared[field] != getattr(data_config, field)]
    if differences:
        raise MusicVAEError(f"{path} was prepared with an incompatible config: "
                            + "; ".join(differences))
    if not any(path.glob(f"{split}-*.tfrecord*")):
        raise MusicVAEError(f"{path} has no {split} shards ({split}-*.tfrecord)")
    return path

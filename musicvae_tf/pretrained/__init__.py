"""Models shipped with the package, usable by name wherever a model is taken.

Each shipped model is a folder ``musicvae_tf/pretrained/NAME/`` laid out like a finished training
run (``config.yaml`` + ``model.keras``) plus its ``MODEL_CARD.md`` and held-out evaluation. They are
trained here by ``make pretrained`` (``musicvae_tf/pretrained/recipe.py``); see each model card.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from data_pipelines.errors import MusicVAEError

MODEL_FILE = "model.keras"


def pretrained_root() -> Path:
    """The folder that holds the shipped models."""
    return Path(str(importlib.resources.files("musicvae_tf.pretrained")))


def shipped_models() -> list[str]:
    """Names of the shipped models present in this installation."""
    root = pretrained_root()
    return sorted(p.name for p in root.iterdir() if (p / MODEL_FILE).is_file())


def resolve_model(name_or_path: str | Path) -> Path:
    """A path that exists as given, else the folder of the shipped model of that name.

    Raises MusicVAEError naming the shipped models when it is neither.
    """
    path = Path(name_or_path)
    if path.exists():
        return path
    name = str(name_or_path)
    if "/" not in name and (pretrained_root() / name / MODEL_FILE).is_file():
        return pretrained_root() / name
    shipped = ", ".join(shipped_models()) or "none installed"
    raise MusicVAEError(f"model not found: {name} (not a path; shipped models: {shipped})")

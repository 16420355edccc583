"""The model families, keyed by a config's ``family:`` field (default ``music_vae``).

A family is a folder ``musicvae_tf/models/<name>/`` with a ``family.py`` of hooks (``train``,
``evaluate``, ``check_model``, ``restore_checkpoint``, ``KERAS_MODULES``) and, when its configs
have sections beyond data/model/training, a ``config.py`` whose ``SECTIONS`` maps each section
name to its dataclass. Both are named here as module paths and imported on first use, so reading
a config never imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import importlib
from types import ModuleType

from data_pipelines.errors import UsageError


@dataclasses.dataclass(frozen=True)
class Family:
    """Where one family's hooks and typed config sections live."""

    hooks: str
    sections: str | None = None


FAMILIES = {
    "music_vae": Family(hooks="musicvae_tf.models.music_vae.family",
                        sections="musicvae_tf.models.music_vae.config"),
    "inpainting": Family(hooks="musicvae_tf.models.inpainting.family",
                         sections="musicvae_tf.models.inpainting.config"),
    "vq_vae": Family(hooks="musicvae_tf.models.vq_vae.family",
                     sections="musicvae_tf.models.vq_vae.config"),
    "pianotree": Family(hooks="musicvae_tf.models.pianotree.family",
                        sections="musicvae_tf.models.pianotree.config"),
    "sketch_vae": Family(hooks="musicvae_tf.models.sketch_vae.family",
                         sections="musicvae_tf.models.sketch_vae.config"),
    "sketchnet": Family(hooks="musicvae_tf.models.sketchnet.family",
                        sections="musicvae_tf.models.sketchnet.config"),
}
DEFAULT_FAMILY = "music_vae"


def _family(name: str) -> Family:
    if name not in FAMILIES:
        raise UsageError(f"unknown family {name!r}; choose one of: {', '.join(FAMILIES)}")
    return FAMILIES[name]


def family_sections(name: str) -> dict[str, type]:
    """The typed config sections of family ``name`` beyond data, model and training."""
    module = _family(name).sections
    return dict(importlib.import_module(module).SECTIONS) if module else {}


def all_section_names() -> list[str]:
    """Every family section name (for "did you mean" hints)."""
    return sorted({section for name in FAMILIES for section in family_sections(name)})


def family_hooks(name: str) -> ModuleType:
    """The hooks module of family ``name`` (imports the family, and TensorFlow with it)."""
    return importlib.import_module(_family(name).hooks)


def register_keras_classes() -> None:
    """Import every family's Keras classes so that any ``.keras`` file can be deserialised."""
    for name in FAMILIES:
        for module in family_hooks(name).KERAS_MODULES:
            importlib.import_module(module)

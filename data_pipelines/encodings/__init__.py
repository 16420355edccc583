"""Data representations (see ``base.Encoding``) and the registry that picks one by
``data.encoding``. A new encoding is one module here and one line in ``ENCODINGS``."""

from __future__ import annotations

import importlib

from data_pipelines.data_config import DataConfig
from data_pipelines.encodings.base import Encoding, RollLane, Track
from data_pipelines.errors import UsageError

#: ``data.encoding`` name -> ``module:Class`` (imported when first used).
ENCODINGS = {
    "melody": "data_pipelines.encodings.melody:MelodyEncoding",
    "melody_chords": "data_pipelines.encodings.chords:ChordMelodyEncoding",
    "drums": "data_pipelines.encodings.drums:DrumsEncoding",
    "trio": "data_pipelines.encodings.trio:TrioEncoding",
    "pianotree": "data_pipelines.encodings.pianotree:PianoTreeEncoding",
}

__all__ = ["ENCODINGS", "Encoding", "RollLane", "Track", "encoding_for"]


def encoding_for(data_config: DataConfig) -> Encoding:
    """The encoding that ``data_config.encoding`` names, bound to ``data_config``."""
    target = ENCODINGS.get(data_config.encoding)
    if target is None:
        raise UsageError(f"unknown data.encoding {data_config.encoding!r}; choose one of: "
                         f"{', '.join(ENCODINGS)}")
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(data_config)

"""Musical attributes of token melodies and latent attribute vectors (MusicVAE paper, SPEC §6).

Attributes are measured on token arrays (SPEC §1: 0 = no event, 1 = note off, 2.. = note on):

- ``note_density``: note onsets per step (onsets / number of steps).
- ``average_interval``: mean absolute interval in semitones between consecutive note onsets.
- ``c_diatonic``: fraction of notes whose pitch class is in C major (C D E F G A B).
- ``syncopation_8th``: fraction of onsets on an off-beat 8th, i.e. on an odd-numbered 8th of the bar
  (with 4 steps per quarter: bar steps 2, 6, 10, 14).
- ``syncopation_16th``: fraction of onsets on an odd-numbered 16th of the bar
  (with 4 steps per quarter: odd bar steps).

Attributes that are fractions of notes or intervals are undefined (NaN) for melodies without
enough notes (no note; fewer than two notes for the interval); such melodies are left out when an
attribute vector is computed and when decoded attributes are averaged.

An attribute vector is the mean posterior mean of the examples in the top quartile of an attribute
minus that of the bottom quartile (the paper says "high" and "low" without giving a threshold; we
chose quartiles). Vectors are saved beside the model as ``attributes.npz`` and applied as
``z + amount * vector``.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from data_pipelines.tokens import FIRST_PITCH_TOKEN, token_notes
from musicvae_tf.config import DataConfig
from data_pipelines.errors import MusicVAEError, UsageError
from data_pipelines.io_utils import atomic_write_bytes

C_MAJOR_PITCH_CLASSES = frozenset({0, 2, 4, 5, 7, 9, 11})


class Note(NamedTuple):
    """A note of a token melody, in steps: sounds over [start, end)."""

    start: int
    end: int
    pitch: int


def melody_notes(tokens: np.ndarray, data_config: DataConfig) -> list[Note]:
    """The notes a token melody plays: a note lasts until the next note-on, note-off or the end."""
    return [Note(start, end, pitch) for pitch, start, end in token_notes(tokens, data_config)]


def note_density(tokens: np.ndarray, data_config: DataConfig) -> float:
    """Note onsets per step."""
    tokens = np.asarray(tokens).reshape(-1)
    return float(np.count_nonzero(tokens >= FIRST_PITCH_TOKEN)) / max(len(tokens), 1)


def average_interval(tokens: np.ndarray, data_config: DataConfig) -> float:
    """Mean absolute semitone interval between consecutive notes; NaN with fewer than two notes."""
    pitches = np.asarray([n.pitch for n in melody_notes(tokens, data_config)], dtype=np.float64)
    if len(pitches) < 2:
        return float("nan")
    return float(np.mean(np.abs(np.diff(pitches))))


def c_diatonic(tokens: np.ndarray, data_config: DataConfig) -> float:
    """Fraction of notes whose pitch class is in C major; NaN without notes."""
    notes = melody_notes(tokens, data_config)
    if not notes:
        return float("nan")
    return sum(n.pitch % 12 in C_MAJOR_PITCH_CLASSES for n in notes) / len(notes)


def _offbeat_fraction(tokens: np.ndarray, data_config: DataConfig, subdivisions_per_quarter: int) -> float:
    """Fraction of onsets on an odd-numbered grid position (``subdivisions_per_quarter`` per beat)."""
    onsets = np.flatnonzero(np.asarray(tokens).reshape(-1) >= FIRST_PITCH_TOKEN)
    if len(onsets) == 0:
        return float("nan")
    steps_per_position = data_config.steps_per_quarter / subdivisions_per_quarter
    position = (onsets % data_config.steps_per_bar) / steps_per_position
    on_grid = np.isclose(position, np.round(position))
    odd = on_grid & (np.round(position).astype(int) % 2 == 1)
    return float(np.count_nonzero(odd)) / len(onsets)


def syncopation_8th(tokens: np.ndarray, data_config: DataConfig) -> float:
    """Fraction of onsets on an off-beat 8th (odd 8th of the bar); NaN without onsets."""
    return _offbeat_fraction(tokens, data_config, 2)


def syncopation_16th(tokens: np.ndarray, data_config: DataConfig) -> float:
    """Fraction of onsets on an odd 16th of the bar; NaN without onsets."""
    return _offbeat_fraction(tokens, data_config, 4)


ATTRIBUTES: dict[str, Callable[[np.ndarray, DataConfig], float]] = {
    "note_density": note_density,
    "average_interval": average_interval,
    "c_diatonic": c_diatonic,
    "syncopation_8th": syncopation_8th,
    "syncopation_16th": syncopation_16th,
}


def check_attribute_name(name: str) -> str:
    """Return ``name`` if it is a known attribute, else raise a UsageError listing them."""
    if name not in ATTRIBUTES:
        raise UsageError(f"unknown attribute {name!r}; choose one of: {', '.join(ATTRIBUTES)}")
    return name


def attribute_values(tokens_batch: np.ndarray, data_config: DataConfig) -> dict[str, np.ndarray]:
    """Every attribute of every melody in ``tokens_batch`` [N, T] -> {name: float64 [N]} (NaN = undefined)."""
    tokens_batch = np.asarray(tokens_batch)
    return {
        name: np.asarray([fn(row, data_config) for row in tokens_batch], dtype=np.float64)
        for name, fn in ATTRIBUTES.items()
    }


@dataclasses.dataclass(frozen=True)
class AttributeVector:
    """One attribute direction in latent space, with how it was obtained."""

    name: str
    vector: np.ndarray  # float32 [latent_dim]
    low_threshold: float  # examples with attribute <= this are "low"
    high_threshold: float  # examples with attribute >= this are "high"
    low_count: int
    high_count: int
    low_mean: float  # mean attribute of the low / high groups
    high_mean: float


@dataclasses.dataclass(frozen=True)
class AttributeVectors:
    """All attribute vectors of one model; saved as an ``.npz`` beside it."""

    vectors: dict[str, AttributeVector]
    num_examples: int

    def vector(self, name: str) -> np.ndarray:
        """The latent direction of attribute ``name``."""
        check_attribute_name(name)
        if name not in self.vectors:
            raise MusicVAEError(f"no {name} vector was computed (too few examples with that attribute)")
        return self.vectors[name].vector

    def save(self, path: str | Path) -> Path:
        """Write every vector and its statistics to ``path`` (npz), atomically."""
        arrays: dict[str, np.ndarray] = {"num_examples": np.asarray(self.num_examples)}
        for name, item in self.vectors.items():
            arrays[f"{name}/vector"] = item.vector.astype(np.float32)
            arrays[f"{name}/stats"] = np.asarray(
                [item.low_threshold, item.high_threshold, item.low_count, item.high_count,
                 item.low_mean, item.high_mean], dtype=np.float64)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> "AttributeVectors":
        """Read vectors written by :meth:`save`."""
        try:
            with np.load(path) as data:
                vectors = {}
                for key in data.files:
                    name, _, field = key.partition("/")
                    if field != "vector":
                        continue
                    low_t, high_t, low_n, high_n, low_m, high_m = data[f"{name}/stats"].tolist()
                    vectors[name] = AttributeVector(name, data[key].astype(np.float32), low_t, high_t,
                                                    int(low_n), int(high_n), low_m, high_m)
                return cls(vectors, int(data["num_examples"]))
        except (OSError, ValueError, KeyError) as exc:
            raise MusicVAEError(f"cannot read attribute vectors {path}: {exc}") from None


def compute_attribute_vectors(latents: np.ndarray, tokens_batch: np.ndarray, data_config: DataConfig,
                              min_group_size: int = 2) -> AttributeVectors:
    """Attribute vectors from posterior means ``latents`` [N, D] of the melodies ``tokens_batch`` [N, T].

    For each attribute: the examples where it is defined are ranked; "low" is the bottom quartile
    (attribute <= 25th percentile) and "high" the top quartile (>= 75th percentile); the vector is
    mean(latents[high]) - mean(latents[low]). An attribute that does not vary (equal quartiles) or
    has fewer than ``min_group_size`` examples in a group gets no vector.
    """
    latents = np.asarray(latents, dtype=np.float64)
    values = attribute_values(tokens_batch, data_config)
    vectors = {}
    for name, column in values.items():
        defined = np.isfinite(column)
        if np.count_nonzero(defined) < 2 * min_group_size:
            continue
        low_t, high_t = np.percentile(column[defined], [25, 75])
        if high_t <= low_t:
            continue
        low = defined & (column <= low_t)
        high = defined & (column >= high_t)
        if min(np.count_nonzero(low), np.count_nonzero(high)) < min_group_size:
            continue
        vector = latents[high].mean(axis=0) - latents[low].mean(axis=0)
        vectors[name] = AttributeVector(
            name, vector.astype(np.float32), float(low_t), float(high_t),
            int(np.count_nonzero(low)), int(np.count_nonzero(high)),
            float(column[low].mean()), float(column[high].mean()))
    return AttributeVectors(vectors, int(len(latents)))

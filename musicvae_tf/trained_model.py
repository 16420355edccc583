"""A trained MusicVAE ready for generation: sample, encode, decode, interpolate, similar, attributes.

``TrainedModel.load(path)`` accepts a run directory written by ``musicvae-tf train`` (``R/model.keras``
and ``R/config.yaml``; a run still training loads its newest checkpoint) or a ``.keras`` file (its
config is read from a ``config.yaml`` beside it, else from the model itself; one loader for every
family, ``musicvae_tf.models.loading``). Every method takes any batch size; decoding runs in
fixed-size chunks so memory stays bounded and a given seed always gives the same output.

Unlike Magenta's ``TrainedModel.encode``, inputs that hold several windows are not refused: every
window is encoded and returned with its source and bar offset, or the caller picks one with ``bar=``.
Bars are counted from 1 as musicians count (``bar=1`` is the window that starts the melody);
``Window.bar_offset`` stays a 0-based offset.

A chord-conditioned model (``data.encoding: melody_chords``) decodes under per-step chord tokens
(``chords=``, e.g. ``model.chord_steps("C G Am F")``, one chord per bar) and returns windows of
melody and chord columns; without ``chords`` it decodes under no chord. A progression longer than a
window is decoded window by window from the same z and the windows are joined.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from musicvae_tf.attributes import AttributeVectors, check_attribute_name, compute_attribute_vectors
from data_pipelines.encodings.base import CONTROL
from musicvae_tf.config import Config, DataConfig
from data_pipelines.errors import MusicVAEError, UsageError
from musicvae_tf.interpolation import interpolate_latents

MODEL_FILE = "model.keras"
# Rows decoded per call of the model: bounds memory and fixes how seeds map to rows.
DECODE_CHUNK = 256
_SEED_MODULUS = 2**31 - 1
# Multiple of an attribute vector added by shift() when no amount is given (CLI and API alike).
DEFAULT_AMOUNT = 1.0
DEFAULT_QPM = 120.0


@dataclasses.dataclass(frozen=True)
class EncodedWindows:
    """Posterior of every encoded window.

    Fields: ``z`` a posterior sample, ``mu``/``sigma`` the posterior mean and scale (float32
    [N, D]), ``windows[i]`` (source, melody_index, bar_offset, tokens) where row ``i`` came from.
    As a tuple it is ``(z, mu, sigma)``, like Magenta's ``encode``: ``z, mu, sigma =
    model.encode(x)`` and ``model.encode(x)[1]`` is ``mu``; ``len()`` is the number of windows.
    """

    z: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    windows: list

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.z, self.mu, self.sigma))

    def __getitem__(self, index):
        return (self.z, self.mu, self.sigma)[index]

    def __len__(self) -> int:
        return len(self.windows)

    @property
    def tokens(self) -> np.ndarray:
        """The encoded windows' tokens, int32 [N, T]."""
        return np.stack([np.asarray(w.tokens, dtype=np.int32) for w in self.windows])


@dataclasses.dataclass(frozen=True)
class Interpolation:
    """An interpolation between two encoded windows: latents [S, D] and decoded tokens [S, T]."""

    latents: np.ndarray
    tokens: np.ndarray
    start: Any  # the Window encoded for the first endpoint
    end: Any  # the Window encoded for the last endpoint


class TrainedModel:
    """A loaded MusicVAE with its config and (optional) attribute vectors."""

    def __init__(self, model, config: Config, model_path: Path | None = None, prior=None):
        from musicvae_tf.latent_priors import latent_prior_for

        self.model = model
        self.config = config
        self.model_path = model_path
        # What sample_latents draws from: N(0, I), or the family's prior (musicvae_tf.latent_priors).
        self.prior = prior if prior is not None else latent_prior_for(model, config, model_path)
        self._attribute_vectors: AttributeVectors | None = None

    # ----------------------------------------------------------------------------- loading

    @classmethod
    def load(cls, path: str | Path) -> "TrainedModel":
        """Load a run directory (its ``model.keras``, else its newest checkpoint), a ``.keras``
        file or a shipped model by name (``folk-mel_2bar``, see ``musicvae_tf.pretrained``)."""
        from musicvae_tf.models.loading import load_model

        model, config, model_path = load_model(path)
        return cls(model, config, model_path)

    @property
    def data_config(self) -> DataConfig:
        """How this model's windows are tokenised."""
        return self.config.data

    @property
    def encoding(self):
        """The data representation of this model's windows (``data.encoding``)."""
        from data_pipelines.encodings import encoding_for

        return encoding_for(self.data_config)

    @property
    def has_controls(self) -> bool:
        """True when the decoder is conditioned on per-step controls (chords)."""
        return self.encoding.control_depth > 0

    def chord_steps(self, progression: str) -> np.ndarray:
        """Per-step chord tokens of a progression such as ``"C G Am F"`` (one chord per bar),
        repeated to fill a whole number of windows. UsageError for an unknown chord name or a
        model without chord controls."""
        encoding = self.encoding
        self._require_chords()
        try:
            chords = encoding.chord_steps(progression)
        except ValueError as exc:
            raise UsageError(f"{exc} (chords are named like C, Am, F#dim, Bbaug, G7, N.C.)") from None
        steps = self.data_config.num_steps
        windows = -(-len(chords) // steps)
        return encoding.chord_steps(progression, num_bars=windows * self.data_config.num_bars)

    def chords_of(self, tokens) -> np.ndarray:
        """The per-step chord tokens (control column) of a window of a chord-conditioned model."""
        self._require_chords()
        control = next(i for i, t in enumerate(self.encoding.tracks) if t.role == CONTROL)
        return np.asarray(tokens)[..., control]

    def output_columns(self, tokens) -> np.ndarray:
        """What the decoder predicts of windows: the tokens themselves, or without their control
        (chord) column for a chord-conditioned model."""
        if not self.has_controls:
            return np.asarray(tokens)
        return np.asarray(tokens)[..., self._output_tracks()]

    def _output_tracks(self) -> list[int]:
        return [i for i, t in enumerate(self.encoding.tracks) if t.role != CONTROL]

    def _require_chords(self) -> None:
        if not self.has_controls or not hasattr(self.encoding, "chord_steps"):
            raise UsageError(f"chords need a chord-conditioned model (data.encoding "
                             f"melody_chords); this one has data.encoding {self.encoding.name}")

    @property
    def latent_dim(self) -> int:
        """Size of z."""
        return int(self.prior.latent_dim)

    @property
    def attributes_path(self) -> Path:
        """Where attribute vectors live: ``attributes.npz`` beside ``model.keras`` (else ``<stem>.attributes.npz``)."""
        if self.model_path is None:
            raise MusicVAEError("this model was not loaded from a file, so it has no attribute file")
        name = "attributes.npz" if self.model_path.name == MODEL_FILE else f"{self.model_path.stem}.attributes.npz"
        return self.model_path.with_name(name)

    # ----------------------------------------------------------------------------- generation

    def sample_latents(self, n: int, seed: int | None = None, temperature: float = 1.0) -> np.ndarray:
        """``n`` draws of z from the prior, float32 [n, D]: N(0, I) for MusicVAE (``temperature``
        unused), a code prior's draws at ``temperature`` for a VQ-VAE."""
        _check_count(n, "n")
        return self.prior.sample(n, seed, temperature)

    def sample_tokens(self, n: int, temperature: float = 0.5, seed: int | None = None,
                      attribute: str | None = None, amount: float | None = None,
                      chords=None) -> np.ndarray:
        """Decode ``n`` prior samples (optionally shifted along an attribute vector) to tokens [n, T]."""
        z = self.shift(self.sample_latents(n, seed, temperature), attribute, amount)
        return self.decode_tokens(z, temperature=temperature, seed=seed, chords=chords)

    def sample(self, n: int, temperature: float = 0.5, seed: int | None = None,
               attribute: str | None = None, amount: float | None = None,
               qpm: float = DEFAULT_QPM, chords=None) -> list:
        """``n`` new melodies as NoteSequences; the same seed gives the same melodies."""
        return self.to_note_sequences(
            self.sample_tokens(n, temperature, seed, attribute, amount, chords), qpm)

    def decode_tokens(self, z: np.ndarray, temperature: float = 0.5, seed: int | None = None,
                      chords=None) -> np.ndarray:
        """Decode latents [N, D] to tokens int32 [N, T] (temperature 0 = most likely token).

        A chord-conditioned model takes ``chords``, per-step chord tokens ``[T']`` for every row
        or ``[N, T']``, ``T'`` a whole number of windows (default: one window of no chord), and
        returns windows ``[N, T', 2]`` (melody, chord).
        """
        import tensorflow as tf

        z = np.asarray(z, dtype=np.float32)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise UsageError(f"z must have shape [N, {self.latent_dim}], got {list(z.shape)}")
        if not np.all(np.isfinite(z)):
            raise UsageError("z holds NaN or infinite values")
        if temperature < 0:
            raise UsageError(f"temperature must be >= 0, got {temperature}")
        windows, rows, controls = self._control_windows(chords, len(z))
        z = np.repeat(z, len(windows) // max(len(z), 1), axis=0) if rows else z
        chunks = []
        for index, start in enumerate(range(0, len(z), DECODE_CHUNK)):
            chunk_seed = None if seed is None else (int(seed) + 7919 * index) % _SEED_MODULUS
            chunk = slice(start, start + DECODE_CHUNK)
            tokens = self.model.sample_tokens(
                tf.constant(z[chunk]), temperature=float(temperature), seed=chunk_seed,
                controls=None if controls is None else controls[chunk])
            chunks.append(np.asarray(tokens, dtype=np.int32))
        if not chunks:
            return np.zeros((0, *self.encoding.window_shape), np.int32)
        tokens = np.concatenate(chunks)
        if not rows:
            return tokens
        outputs = self._output_tracks()
        windows[..., outputs] = tokens.reshape(*tokens.shape[:2], len(outputs))
        return windows.reshape(rows, -1, windows.shape[-1])

    def _control_windows(self, chords, rows: int):
        """For a model with controls: the windows ``[rows * k, T, tracks]`` holding ``chords``
        (output columns still zero), ``rows`` and the decoder's controls; else ``(None, 0, None)``."""
        if not self.has_controls:
            if chords is not None:
                self._require_chords()
            return None, 0, None
        steps = self.data_config.num_steps
        chords = np.zeros(steps, np.int32) if chords is None else np.asarray(chords, np.int32)
        chords = np.broadcast_to(chords, (rows, chords.shape[-1])) if chords.ndim == 1 else chords
        if chords.shape[0] != rows or chords.shape[1] % steps or not chords.shape[1]:
            raise UsageError(f"chords must have shape [{rows}, k * {steps}] (whole windows), got "
                             f"{list(chords.shape)}")
        tracks = self.encoding.tracks
        control = next(i for i, t in enumerate(tracks) if t.role == CONTROL)
        windows = np.zeros((chords.size // steps, steps, len(tracks)), np.int32)
        windows[..., control] = chords.reshape(-1, steps)
        return windows, rows, np.asarray(self.encoding.decoder_inputs(windows)[2], np.float32)

    def decode(self, z: np.ndarray, temperature: float = 0.5, seed: int | None = None,
               qpm: float = DEFAULT_QPM, chords=None) -> list:
        """Decode latents [N, D] to NoteSequences."""
        return self.to_note_sequences(self.decode_tokens(z, temperature, seed, chords), qpm)

    def to_note_sequences(self, tokens: np.ndarray, qpm: float = DEFAULT_QPM) -> list:
        """Token rows -> NoteSequences at ``qpm`` quarter notes per minute (SPEC §1)."""
        return [self.encoding.to_note_sequence(row, qpm=qpm) for row in np.asarray(tokens)]

    # ----------------------------------------------------------------------------- encoding

    def windows(self, inputs, bar: int | None = None) -> list:
        """Every usable window of ``inputs`` (one or a list of MIDI paths, PrettyMIDI, NoteSequences).

        With ``bar`` only the window starting at that bar (counted from 1, of each input's first
        melody that has one) is kept. An input without a usable window raises MusicVAEError naming
        the reason.
        """
        from data_pipelines.windows import windows_from_file

        items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if not items:
            raise UsageError("nothing to encode")
        if bar is not None and (int(bar) != bar or bar < 1):
            raise UsageError(f"bars count from 1, got bar {bar}")
        chosen = []
        for item in items:
            if isinstance(item, (str, Path)) and not Path(item).is_file():
                raise MusicVAEError(f"input file not found: {item}")
            windows = list(windows_from_file(item, self.data_config))
            if not windows:
                raise MusicVAEError(f"{_describe(item)}: no usable {self.data_config.num_bars}-bar window")
            chosen.extend(windows if bar is None else [_window_at(windows, bar, item)])
        return chosen

    def encode_tokens(self, tokens: np.ndarray, seed: int | None = None) -> tuple[np.ndarray, ...]:
        """Posterior (z, mu, sigma) of token windows [N, T]; z is drawn with ``seed``."""
        import tensorflow as tf

        tokens = np.asarray(tokens, dtype=np.int32)
        shape = self.encoding.window_shape
        if tokens.shape[1:] != shape:
            raise UsageError(f"tokens must have shape [N, {', '.join(map(str, shape))}], "
                             f"got {list(tokens.shape)}")
        mus, sigmas = [], []
        for start in range(0, len(tokens), DECODE_CHUNK):
            inputs = self.encoding.encoder_inputs(tf.constant(tokens[start:start + DECODE_CHUNK]))
            mu, sigma = self.model.encode(tf.cast(inputs, tf.float32), training=False)
            mus.append(np.asarray(mu, np.float32))
            sigmas.append(np.asarray(sigma, np.float32))
        mu, sigma = np.concatenate(mus), np.concatenate(sigmas)
        noise = np.random.default_rng(seed).standard_normal(mu.shape).astype(np.float32)
        return mu + sigma * noise, mu, sigma

    def encode(self, inputs, bar: int | None = None, seed: int | None = None) -> EncodedWindows:
        """Encode every window of ``inputs`` (or the one at ``bar``): ``z, mu, sigma`` plus provenance."""
        windows = self.windows(inputs, bar)
        z, mu, sigma = self.encode_tokens(np.stack([np.asarray(w.tokens) for w in windows]), seed)
        return EncodedWindows(z, mu, sigma, windows)

    def encode_one(self, item, bar: int | None = None, seed: int | None = None) -> EncodedWindows:
        """Encode one window of one input: the one starting at ``bar``, else the first."""
        windows = self.windows(item, bar)[:1]
        z, mu, sigma = self.encode_tokens(np.asarray(windows[0].tokens)[None], seed)
        return EncodedWindows(z, mu, sigma, windows)

    # ----------------------------------------------------------------------------- latent walks

    def interpolate_tokens(self, a, b, num_steps: int = 5, method: str = "slerp", temperature: float = 0.5,
                           seed: int | None = None, bar_a: int | None = None,
                           bar_b: int | None = None, chords=None) -> Interpolation:
        """Decode ``num_steps`` points from the posterior mean of ``a`` to that of ``b``, endpoints included.

        ``a``/``b`` are single inputs; the window at ``bar_a``/``bar_b`` is used, the first by default.
        """
        first, last = self.encode_one(a, bar_a), self.encode_one(b, bar_b)
        latents = interpolate_latents(first.mu[0], last.mu[0], num_steps, method)
        tokens = self.decode_tokens(latents, temperature=temperature, seed=seed, chords=chords)
        return Interpolation(latents, tokens, first.windows[0], last.windows[0])

    def interpolate(self, a, b, num_steps: int = 5, method: str = "slerp", temperature: float = 0.5,
                    seed: int | None = None, bar_a: int | None = None, bar_b: int | None = None,
                    chords=None) -> list:
        """Interpolation between two inputs as NoteSequences (see :meth:`interpolate_tokens`)."""
        result = self.interpolate_tokens(a, b, num_steps, method, temperature, seed, bar_a, bar_b,
                                         chords)
        return self.to_note_sequences(result.tokens)

    def similar_latents(self, mu: np.ndarray, n: int, similarity: float, seed: int | None = None) -> np.ndarray:
        """``n`` latents ``s * mu + (1 - s) * noise`` with noise ~ N(0, I), float32 [n, D].

        magenta-js ``similar``'s mix: ``similarity`` ``s`` in [0, 1]; 1 gives ``mu`` itself, 0 a
        prior sample unrelated to it.
        """
        _check_count(n, "n")
        if not 0.0 <= similarity <= 1.0:
            raise UsageError(f"similarity must lie in [0, 1], got {similarity}")
        mu = np.asarray(mu, np.float32).reshape(1, -1)
        noise = np.random.default_rng(seed).standard_normal((n, mu.shape[1])).astype(np.float32)
        return (similarity * mu + (1.0 - similarity) * noise).astype(np.float32)

    def cosine_latents(self, mu: np.ndarray, n: int, cosine: float, seed: int | None = None) -> np.ndarray:
        """``n`` latents at cosine similarity ``cosine`` to ``mu`` with the same norm, float32 [n, D].

        Each is ``|mu| * (c * u + sqrt(1 - c^2) * v)`` with ``u`` the direction of ``mu`` and ``v`` a
        random unit vector orthogonal to it. Unlike :meth:`similar_latents` every result stays as far
        from the origin as ``mu``, where the decoder saw its training latents; ``c`` in [-1, 1].
        """
        _check_count(n, "n")
        if not -1.0 <= cosine <= 1.0:
            raise UsageError(f"cosine must lie in [-1, 1], got {cosine}")
        mu = np.asarray(mu, np.float64).reshape(-1)
        norm = np.linalg.norm(mu)
        rng = np.random.default_rng(seed)
        if norm == 0.0:
            raise MusicVAEError("the latent is zero, so no direction has a cosine similarity to it")
        unit = mu / norm
        noise = rng.standard_normal((n, mu.size))
        noise -= (noise @ unit)[:, None] * unit
        noise /= np.maximum(np.linalg.norm(noise, axis=1, keepdims=True), 1e-12)
        return (norm * (cosine * unit + np.sqrt(1.0 - cosine**2) * noise)).astype(np.float32)

    def similar_tokens(self, x, n: int, similarity: float, temperature: float = 0.5,
                       seed: int | None = None, bar: int | None = None, chords=None) -> np.ndarray:
        """Decode ``n`` latents mixed from the posterior mean of ``x`` and noise (magenta-js
        ``similar``, see :meth:`similar_latents`); ``bar`` picks the window of ``x``."""
        encoded = self.encode_one(x, bar)
        z = self.similar_latents(encoded.mu[0], n, similarity, seed)
        return self.decode_tokens(z, temperature=temperature, seed=seed, chords=chords)

    def similar(self, x, n: int, similarity: float, temperature: float = 0.5, seed: int | None = None,
                bar: int | None = None, qpm: float = DEFAULT_QPM, chords=None) -> list:
        """Melodies similar to ``x`` as NoteSequences (see :meth:`similar_tokens`)."""
        return self.to_note_sequences(
            self.similar_tokens(x, n, similarity, temperature, seed, bar, chords), qpm)

    # ----------------------------------------------------------------------------- attributes

    @property
    def attribute_vectors(self) -> AttributeVectors:
        """Attribute vectors saved beside the model (``musicvae-tf attributes`` computes them)."""
        if self._attribute_vectors is None:
            path = self.attributes_path
            if not path.is_file():
                raise MusicVAEError(f"no attribute vectors at {path}: run `musicvae-tf attributes --model "
                                    f"{path.parent} --data DATA_DIR` first")
            self._attribute_vectors = AttributeVectors.load(path)
        return self._attribute_vectors

    def shift(self, z: np.ndarray, attribute: str | None, amount: float | None = None) -> np.ndarray:
        """``z + amount * vector(attribute)`` (``amount`` defaults to ``DEFAULT_AMOUNT``, 1.0); ``z``
        unchanged when no attribute is given."""
        if attribute is None:
            if amount:
                raise UsageError("an amount needs an attribute (--amount needs --attribute)")
            return np.asarray(z, np.float32)
        check_attribute_name(attribute)
        amount = DEFAULT_AMOUNT if amount is None else amount
        return (np.asarray(z, np.float32) + amount * self.attribute_vectors.vector(attribute)).astype(np.float32)

    def compute_attribute_vectors(self, data_dir: str | Path, split: str = "train",
                                  max_examples: int | None = None, batch_size: int = 128,
                                  progress: bool = False) -> AttributeVectors:
        """Attribute vectors from the posterior means of a prepared split; kept on this object (not saved)."""
        tokens = self._prepared_tokens(Path(data_dir), split, max_examples, batch_size, progress)
        _, mu, _ = self.encode_tokens(tokens)
        vectors = compute_attribute_vectors(mu, tokens, self.data_config)
        if not vectors.vectors:
            raise MusicVAEError(f"{len(tokens)} examples were too few or too uniform for any attribute vector")
        self._attribute_vectors = vectors
        return vectors

    def save_attribute_vectors(self) -> Path:
        """Write the current attribute vectors beside the model."""
        if self._attribute_vectors is None:
            raise MusicVAEError("no attribute vectors to save: compute them first")
        return self._attribute_vectors.save(self.attributes_path)

    # ----------------------------------------------------------------------------- helpers

    def _prepared_tokens(self, data_dir: Path, split: str, max_examples: int | None, batch_size: int,
                         progress: bool) -> np.ndarray:
        from data_pipelines.reader import make_dataset

        if split not in ("train", "eval", "test"):
            raise UsageError(f"unknown split {split!r}; choose train, eval or test")
        dataset = make_dataset(str(data_dir), split, self.data_config, batch_size, training=False)
        batches, total = [], 0
        for _, tokens in _maybe_progress(dataset, progress, f"reading {split} windows"):
            batches.append(np.asarray(tokens, np.int32))
            total += len(batches[-1])
            if max_examples is not None and total >= max_examples:
                break
        if not batches:
            raise MusicVAEError(f"{data_dir} has no {split} windows")
        tokens = np.concatenate(batches)
        return tokens[:max_examples] if max_examples is not None else tokens


def _window_at(windows: Sequence, bar: int, item) -> Any:
    """The window that starts at 1-based ``bar``."""
    for window in windows:
        if window.bar_offset == bar - 1:
            return window
    starts = sorted({w.bar_offset + 1 for w in windows})
    raise MusicVAEError(f"{_describe(item)}: no window starts at bar {bar}; windows start at bars "
                        f"{', '.join(map(str, starts))}")


def _describe(item) -> str:
    if isinstance(item, (str, Path)):
        return str(item)
    return type(item).__name__


def _check_count(n: int, name: str) -> None:
    if int(n) != n or n < 1:
        raise UsageError(f"{name} must be a positive whole number, got {n}")


def _maybe_progress(iterable: Iterable, enabled: bool, description: str) -> Iterable:
    if not enabled:
        return iterable
    from rich.progress import track

    return track(iterable, description=description, transient=True)

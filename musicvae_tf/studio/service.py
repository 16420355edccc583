"""What the studio's routes do, without the web: the loaded models and sample / interpolate /
inpaint through the same API calls (and the same checks and one-line errors) as the CLI commands.

Every function here is synchronous and may take seconds; the routes run them in a worker thread.
A model is used by one request at a time (its lock), so concurrent requests never share a model's
state mid-call and each gets exactly the result it would get alone.
"""

from __future__ import annotations

import dataclasses
import functools
import secrets
import tempfile
import threading
from pathlib import Path

import numpy as np

from data_pipelines.errors import UsageError

# Loaded when `musicvae-tf serve` names no model.
DEFAULT_MODELS = ("folk-mel_2bar", "folk-hierdec-mel_16bar", "folk-inpaint")
MAX_SAMPLES = 16
MAX_STEPS = 16
MAX_INPAINT_OUTPUTS = 8
MAX_SEARCH_STEPS = 100
# How each family's models fill bars (a family not named here is shown by its name).
INPAINT_METHODS = {"inpainting": "latent RNN", "music_vae": "latent search"}
# Tunes of O'Neill's 1850 in the folk models' test split (the shipped models never trained on
# them) that give 2-bar and 16-bar windows and 16 or more bars to inpaint; the first two and the
# third are the Makefile's TUNE_A, TUNE_B and TUNE_INPAINT.
HELD_OUT_TUNES = (
    "music21:oneills1850/1556-1624.abc#9",
    "music21:oneills1850/1625-1700.abc#25",
    "music21:oneills1850/1577-1624.abc#4",
    "music21:oneills1850/0001-0050.abc#42",
    "music21:oneills1850/0051-0100.abc#31",
    "music21:oneills1850/0101-0200.abc#16",
)


@dataclasses.dataclass
class StudioModel:
    """One loaded model: a MusicVAE (``trained``, sample and interpolate) and/or an inpainter."""

    name: str
    config: object
    trained: object | None = None  # TrainedModel
    inpainter: object | None = None  # Inpainter
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    @property
    def data_config(self):
        """How this model's windows are tokenised."""
        return self.config.data

    def describe(self) -> dict:
        """What the page needs to know about this model."""
        data = self.data_config
        method = None
        if self.inpainter is not None:
            method = INPAINT_METHODS.get(self.config.family, self.config.family)
        return {"name": self.name, "family": self.config.family, "encoding": data.encoding,
                "num_bars": data.num_bars, "steps_per_bar": data.steps_per_bar,
                "steps_per_quarter": data.steps_per_quarter,
                "can_sample": self.trained is not None, "can_inpaint": self.inpainter is not None,
                "inpaint_method": method}


def load_studio_model(name_or_path: str) -> StudioModel:
    """Load a run dir, ``.keras`` file or shipped name once, as a MusicVAE or an inpainter.

    A 16-bar melody MusicVAE also inpaints by latent search over the same loaded weights; a run of
    another family (a VQ-VAE) is offered for inpainting as ``musicvae-tf inpaint`` loads it.
    """
    from musicvae_tf.models.inpainting.inpaint import LatentRNNInpainter, LatentSearchInpainter, load_inpainter
    from musicvae_tf.models.loading import load_model
    from musicvae_tf.pretrained import resolve_model
    from musicvae_tf.trained_model import TrainedModel
    from musicvae_tf.training.run_files import read_run_config

    name = Path(str(name_or_path)).name if Path(str(name_or_path)).exists() else str(name_or_path)
    run = resolve_model(name_or_path)
    config = read_run_config(run) if run.is_dir() else None
    if config is not None and config.family not in INPAINT_METHODS:
        return StudioModel(name, config, inpainter=load_inpainter(run))
    model, config, path = load_model(run)
    if config.family == "inpainting":
        return StudioModel(name, config, inpainter=LatentRNNInpainter(model, config))
    searcher = None
    if config.data.encoding == "melody" and config.data.num_bars >= 3:
        searcher = LatentSearchInpainter(model, config, search_steps=MAX_SEARCH_STEPS)
    return StudioModel(name, config, trained=TrainedModel(model, config, path), inpainter=searcher)


class Studio:
    """The models a server offers, by name."""

    def __init__(self, models: list[StudioModel]):
        if not models:
            raise UsageError("the studio needs at least one model")
        self.models = {m.name: m for m in models}
        if len(self.models) != len(models):
            raise UsageError("two --model values have the same name")

    @classmethod
    def load(cls, names: list[str] | tuple[str, ...] = DEFAULT_MODELS) -> "Studio":
        """Load every named model (the shipped folk models by default)."""
        return cls([load_studio_model(name) for name in names])

    def describe(self) -> dict:
        """Models, held-out tunes and limits for the page."""
        return {"models": [m.describe() for m in self.models.values()],
                "tunes": list(HELD_OUT_TUNES),
                "limits": {"samples": MAX_SAMPLES, "steps": MAX_STEPS, "inpaint_outputs": MAX_INPAINT_OUTPUTS}}

    def model(self, name: str, use: str) -> StudioModel:
        """The loaded model ``name`` that can ``use`` ("sample" or "inpaint"); UsageError otherwise."""
        model = self.models.get(name)
        if model is None:
            raise UsageError(f"unknown model {name!r}; this server has {', '.join(self.models)}")
        if (model.trained if use == "sample" else model.inpainter) is None:
            able = [m.name for m in self.models.values()
                    if (m.trained if use == "sample" else m.inpainter) is not None]
            raise UsageError(f"{name} cannot {use}; use {', '.join(able) or 'another model'}")
        return model

    # ------------------------------------------------------------------------------ generation

    def sample(self, name: str, count: int, temperature: float, seed: int | None) -> dict:
        """``count`` prior samples, as ``musicvae-tf sample`` decodes them for the same seed."""
        from musicvae_tf.cli.generation_args import check_temperature

        model = self.model(name, "sample")
        _check_range("count", count, 1, MAX_SAMPLES)
        temperature = check_temperature(temperature)
        seed = _seed(seed)
        with model.lock:
            tokens = model.trained.sample_tokens(count, temperature=temperature, seed=seed)
        rolls = [roll(model, row, f"sample {i + 1} (temperature {temperature:g}, seed {seed})")
                 for i, row in enumerate(tokens)]
        return {"model": name, "seed": seed, "results": rolls}

    def interpolate(self, name: str, inputs: list, steps: int, method: str, temperature: float,
                    seed: int | None, bars: tuple = (None, None)) -> dict:
        """Decode ``steps`` points between two inputs (``(label, NoteSequence)``), endpoints included;
        ``bars`` picks each input's window by its first bar (from 1; None: the first window)."""
        from musicvae_tf.cli.generation_args import check_temperature

        model = self.model(name, "sample")
        _check_range("steps", steps, 2, MAX_STEPS)
        if method not in ("slerp", "lerp"):
            raise UsageError(f"argument --method: invalid choice: {method!r} (choose from 'slerp', 'lerp')")
        temperature = check_temperature(temperature)
        seed = _seed(seed)
        (label_a, a), (label_b, b) = inputs
        with model.lock:
            result = model.trained.interpolate_tokens(a, b, steps, method, temperature, seed, *bars)
        ends = [roll(model, w.tokens, f"input {tag}: {label}, bar {w.bar_offset + 1}")
                for tag, label, w in (("A", label_a, result.start), ("B", label_b, result.end))]
        count = len(result.tokens)
        rolls = [roll(model, row, f"step {i + 1}/{count} ({method}, t={i / (count - 1):.2f})")
                 for i, row in enumerate(result.tokens)]
        return {"model": name, "seed": seed, "inputs": ends, "results": rolls}

    def piece(self, name: str, label: str, note_sequence) -> dict:
        """The whole piece an inpainting model would read from ``note_sequence``, as a roll."""
        from musicvae_tf.models.inpainting.piece import piece_from_note_sequence

        model = self.model(name, "inpaint")
        piece = piece_from_note_sequence(note_sequence, label, model.data_config)
        return {"model": name, "qpm": piece.qpm, "num_bars": piece.num_bars,
                "piece": roll(model, piece.tokens, f"{label} ({piece.num_bars} bars)")}

    def inpaint(self, name: str, label: str, note_sequence, bars: str, count: int, temperature: float,
                seed: int | None) -> dict:
        """Fill ``bars`` ("FIRST-LAST", from 1) of a piece with the same checks as ``musicvae-tf inpaint``."""
        from musicvae_tf.cli.generation_args import check_temperature
        from musicvae_tf.models.inpainting.inpaint import check_gap, inpaint_piece
        from musicvae_tf.models.inpainting.piece import (parse_bar_range, piece_from_note_sequence,
                                                         window_around_gap)

        model = self.model(name, "inpaint")
        _check_range("count", count, 1, MAX_INPAINT_OUTPUTS)
        temperature = check_temperature(temperature)
        gap_start, gap_length = parse_bar_range(bars)
        check_gap(model.config, gap_length)
        piece = piece_from_note_sequence(note_sequence, label, model.data_config)
        window_around_gap(piece.num_bars, gap_start, gap_length, model.data_config.num_bars)
        seed = _seed(seed)
        with model.lock:
            pieces = inpaint_piece(model.inpainter, piece, gap_start, gap_length, count, temperature, seed)
        highlight = list(range(gap_start, gap_start + gap_length))
        span = f"bars {gap_start + 1}-{gap_start + gap_length}"
        rolls = [roll(model, row, f"inpainted {i + 1}: {span} filled (seed {seed})", highlight)
                 for i, row in enumerate(pieces)]
        return {"model": name, "seed": seed, "qpm": piece.qpm, "gap": [gap_start + 1, gap_start + gap_length],
                "results": rolls}

    def midi(self, name: str, tokens, qpm: float) -> bytes:
        """A MIDI file of ``tokens`` (a result this server returned) at ``qpm``, written by the
        model's encoding exactly as the CLI writes its ``.mid`` files."""
        from data_pipelines.encodings import encoding_for
        from musicvae_tf.cli.generation_args import tempo

        model = self.models.get(name)
        if model is None:
            raise UsageError(f"unknown model {name!r}; this server has {', '.join(self.models)}")
        qpm = _argument("qpm", tempo, str(qpm))
        tokens = _checked_tokens(model, tokens)
        with tempfile.TemporaryDirectory(prefix="musicvae-studio-") as folder:
            path = Path(folder) / "result.mid"
            encoding_for(model.data_config).write_midi(tokens, path, qpm=qpm)
            return path.read_bytes()


def roll(model: StudioModel, tokens, title: str, highlight_bars=()) -> dict:
    """A result as the page draws, plays and downloads it: its tokens and the encoding's roll lanes
    (notes as ``[pitch, start_step, end_step]``; a drum lane's rows are named)."""
    from data_pipelines.encodings import encoding_for

    tokens = np.asarray(tokens, np.int32)
    lanes = [{"name": lane.name, "notes": [list(map(int, note)) for note in lane.notes],
              "rows": list(lane.row_names) if lane.row_names else None,
              "labels": [[int(step), text] for step, text in lane.labels]}
             for lane in encoding_for(model.data_config).roll_lanes(tokens)]
    return {"title": title, "tokens": tokens.tolist(), "lanes": lanes, "num_steps": int(tokens.shape[0]),
            "steps_per_bar": model.data_config.steps_per_bar,
            "steps_per_quarter": model.data_config.steps_per_quarter,
            "highlight_bars": list(highlight_bars)}


def read_upload(data: bytes, filename: str):
    """``(label, NoteSequence)`` of uploaded MIDI bytes, parsed in memory; errors read as the CLI's
    for a file of that name ("NAME: not a readable MIDI file (...)")."""
    from data_pipelines.midi_source import midi_bytes_to_note_sequence

    label = upload_label(filename)
    return label, midi_bytes_to_note_sequence(data, label)


def upload_label(filename: str | None) -> str:
    """The client's file name reduced to a short printable base name, for messages and titles only."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()[:80]
    return base or "upload.mid"


@functools.lru_cache(maxsize=len(HELD_OUT_TUNES))
def _tune_sequence(piece_id: str):
    from musicvae_tf.piece_inputs import load_piece_sequence

    return load_piece_sequence(piece_id)


def held_out_tune(piece_id: str):
    """``(label, NoteSequence)`` of one of :data:`HELD_OUT_TUNES` (no other id is read)."""
    if piece_id not in HELD_OUT_TUNES:
        raise UsageError(f"unknown tune {piece_id!r}; choose one of {', '.join(HELD_OUT_TUNES)}")
    sequence = type(_tune_sequence(piece_id))()
    sequence.CopyFrom(_tune_sequence(piece_id))
    return piece_id, sequence


def _argument(name: str, convert, text: str):
    """``convert(text)`` with one of the CLI's argparse types; its message as argparse words it."""
    import argparse

    try:
        return convert(text)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"argument --{name}: {exc}") from None


def parse_seed(text: str | None) -> int | None:
    """A seed field: empty for a random seed, else checked as ``--seed`` is."""
    from musicvae_tf.cli.generation_args import seed_value

    if text is None or not str(text).strip():
        return None
    return _argument("seed", seed_value, str(text).strip())


def parse_bar(name: str, text: str | None) -> int | None:
    """A window's start bar field: empty for the first window, else checked as ``--bar`` is."""
    from musicvae_tf.cli.generation_args import bar_number

    if text is None or not str(text).strip():
        return None
    return _argument(name, bar_number, str(text).strip())


def parse_number(name: str, text, convert=float):
    """A numeric field, with argparse's "expected a number" wording when it is not one."""
    try:
        value = convert(str(text).strip())
    except ValueError:
        what = "a whole number" if convert is int else "a number"
        raise UsageError(f"argument --{name}: expected {what}, got {str(text)[:40]!r}") from None
    return value


def _seed(seed: int | None) -> int:
    return secrets.randbelow(2**31 - 1) if seed is None else seed


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise UsageError(f"{name} must lie in {low}..{high} here, got {value}")


def _checked_tokens(model: StudioModel, tokens) -> np.ndarray:
    from data_pipelines.encodings import encoding_for

    encoding = encoding_for(model.data_config)
    try:
        array = np.asarray(tokens)
    except (TypeError, ValueError, OverflowError, RecursionError):
        array = None
    if array is None or (array.size and array.dtype.kind not in "iu"):  # floats, inf, booleans, ragged
        raise UsageError("tokens must be a list of whole numbers")
    shape = encoding.window_shape
    steps_per_bar = model.data_config.steps_per_bar
    max_steps = 64 * steps_per_bar
    if (array.ndim != len(shape) or array.shape[1:] != shape[1:] or not 0 < len(array) <= max_steps
            or len(array) % steps_per_bar):
        raise UsageError(f"tokens must have shape [bars * {steps_per_bar}{''.join(f', {s}' for s in shape[1:])}] "
                         f"with at most 64 bars, got {list(array.shape)}")
    limits = np.asarray([track.num_classes for track in encoding.tracks])
    if array.min() < 0 or np.any(array >= (limits if array.ndim > 1 else limits[0])):
        raise UsageError("tokens hold values outside the model's vocabulary")
    return array.astype(np.int32)


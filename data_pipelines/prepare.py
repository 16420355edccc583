"""The prepare pipeline: list pieces, extract windows in a process pool, write shards and reports.

Output in ``out_dir``: ``{train,eval,test}-NNNNN-of-NNNNN.tfrecord`` shards, ``pieces.json``
(split -> sorted piece ids that gave windows), ``data_config.json`` (the DataConfig used) and
``report.json``. A run first writes ``prepare.incomplete`` and removes the outputs (shards
included) of earlier runs, and removes the marker last, after ``report.json``: a data dir with the
marker is refused by train and evaluate, and a rerun never mixes its shards with older ones.
Shards are written atomically. The same inputs and config always give byte-identical shards.

Every piece is isolated: any error while reading or extracting it, a piece longer than
``data.max_piece_steps`` or slower than ``data.max_seconds_per_piece``, and (with several
workers) a worker process that dies on it, is a counted skip named in ``report.json``.
"""

from __future__ import annotations

import collections
import dataclasses
import typing
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from data_pipelines.data_dir import INCOMPLETE_MARKER
from data_pipelines.encodings import encoding_for
from data_pipelines.report import PrepareReport
from data_pipelines.shards import remove_stale_shards, write_shards
from data_pipelines.sources import PieceRef, list_pieces, load_ref
from data_pipelines.splits import SPLITS, split_for
from data_pipelines.time_limit import PieceTimeout, time_limit
from data_pipelines.worker_pool import ordered_map
from data_pipelines.data_config import DataConfig
from data_pipelines.errors import MusicVAEError
from data_pipelines.io_utils import write_json

WINDOWS_PER_SHARD = 100_000


class NamedDataConfig(typing.Protocol):
    """What ``prepare`` reads of an experiment config (``musicvae_tf.config.Config`` is one)."""

    name: str
    data: DataConfig

# Files a run owns besides its shards; an earlier run's are removed when a run starts.
OUTPUT_FILES = ("report.json", "pieces.json", "data_config.json")


@dataclasses.dataclass
class PieceWindows:
    """One piece's kept windows (``tokens`` int16 [k, *window_shape]) and skip counts."""

    piece_id: str
    readable: bool
    tokens: np.ndarray
    bar_offsets: np.ndarray
    skips: collections.Counter


def piece_windows(ref: PieceRef, data_config: DataConfig) -> PieceWindows:
    """Load one piece and cut all its distinct windows (the per-piece cap applies when training
    reads them, a fresh draw each epoch: see ``data_pipelines.reader``).

    Never raises for a bad piece: an unreadable source, any error and a piece over
    ``data.max_seconds_per_piece`` come back as an unreadable result with the skip reason.
    """
    try:
        with time_limit(data_config.max_seconds_per_piece):
            return _read_and_cut(ref, data_config)
    except PieceTimeout:
        return lost_piece(ref, "timed out", data_config)
    except Exception as exc:  # one bad piece must never stop the others: count it, go on
        return lost_piece(ref, f"failed ({type(exc).__name__})", data_config)


def lost_piece(ref: PieceRef, reason: str, data_config: DataConfig) -> PieceWindows:
    """The result for a piece that gave nothing because of ``reason``."""
    return PieceWindows(ref.piece_id, False, _no_windows(data_config), np.zeros(0, np.int64),
                        collections.Counter({reason: 1}))


def _no_windows(data_config: DataConfig) -> np.ndarray:
    return np.zeros((0, *encoding_for(data_config).window_shape), np.int16)


def _read_and_cut(ref: PieceRef, data_config: DataConfig) -> PieceWindows:
    try:
        piece = load_ref(ref)
    except MusicVAEError:
        return lost_piece(ref, _unreadable_reason(ref), data_config)
    windows, skips = encoding_for(data_config).note_sequence_windows(piece.note_sequence,
                                                                      ref.piece_id)
    tokens = (np.stack([w.tokens for w in windows]).astype(np.int16) if windows
              else _no_windows(data_config))
    offsets = np.asarray([w.bar_offset for w in windows], np.int64)
    return PieceWindows(ref.piece_id, True, tokens, offsets,
                        collections.Counter({k: v for k, v in skips.items() if v}))


def _unreadable_reason(ref: PieceRef) -> str:
    if ref.kind == "abc" and not ref.error:
        return "unreadable tune"
    if ref.kind == "notesequence" and ref.offset:
        return "unreadable record"
    return "unreadable file"


def _iter_results(refs: list[PieceRef], data_config: DataConfig, workers: int):
    """Yield one PieceWindows per ref in input order, using ``workers`` processes."""
    chunk_size = max(1, min(64, math.ceil(len(refs) / max(1, workers * 16))))
    if workers <= 1 or len(refs) <= chunk_size:
        for ref in refs:
            yield piece_windows(ref, data_config)
        return
    # Fork keeps start-up cheap (the parent has already imported music21/note-seq); workers never
    # touch TensorFlow, which the parent imports only after the pool is closed.
    yield from ordered_map(_PieceTask(data_config), refs, workers, chunk_size,
                           data_config.max_seconds_per_piece,
                           lambda ref, reason: lost_piece(ref, reason, data_config))


def _import_readers(refs: list[PieceRef]) -> None:
    """Import the parsers the pieces need before any time limit runs (a limit that interrupted
    an import would leave the module half-initialised), and once, before workers fork."""
    import pretty_midi  # noqa: F401

    from data_pipelines._note_seq import note_seq  # noqa: F401

    if any(ref.kind == "abc" for ref in refs):
        from music21.abcFormat import translate  # noqa: F401


@dataclasses.dataclass(frozen=True)
class _PieceTask:
    """``piece_windows`` with the config bound (picklable for spawn-based pools)."""

    data_config: DataConfig

    def __call__(self, ref: PieceRef) -> PieceWindows:
        return piece_windows(ref, self.data_config)


def prepare_dataset(config: NamedDataConfig, inputs: list[str] | None, corpora: list[str] | None,
                    out_dir: str | os.PathLike, workers: int | None = None,
                    num_shards: int | None = None, progress: bool = True) -> dict:
    """Build the sharded window dataset in ``out_dir`` and return the report dict.

    Raises UsageError for bad inputs and MusicVAEError (after writing report.json) when no piece
    gives a window.
    """
    data_config = config.data
    refs = list_pieces(inputs, corpora)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    marker = out / INCOMPLETE_MARKER
    marker.write_text("a prepare run started here and has not finished\n")
    for name in OUTPUT_FILES:
        (out / name).unlink(missing_ok=True)
    remove_stale_shards(out, set())
    workers = max(1, workers or os.cpu_count() or 1)
    _import_readers(refs)

    report = PrepareReport()
    by_split: dict[str, list[PieceWindows]] = {s: [] for s in SPLITS}
    with _progress_bar(progress, len(refs)) as advance:
        for result in _iter_results(refs, data_config, workers):
            split = split_for(result.piece_id, data_config)
            report.add_piece(result.piece_id, result.readable, split, len(result.tokens),
                             result.skips)
            if len(result.tokens):
                by_split[split].append(result)
            advance(1)

    shards = {}
    for split in SPLITS:
        results = by_split[split]
        count = sum(len(r.tokens) for r in results)
        if not count:
            shards[split] = []
            continue
        tokens = np.concatenate([r.tokens for r in results])
        offsets = np.concatenate([r.bar_offsets for r in results])
        ids = [r.piece_id for r in results for _ in range(len(r.tokens))]
        shard_count = num_shards or max(1, math.ceil(count / WINDOWS_PER_SHARD))
        shards[split] = write_shards(out, split, tokens, ids, offsets, min(shard_count, count))

    result = report.to_dict(config=config.name, inputs=list(inputs or []),
                            corpora=list(corpora or []), shards=shards)
    if report.total_windows:
        write_json(out / "data_config.json", data_config_dict(data_config))
        write_json(out / "pieces.json",
                   {s: sorted(r.piece_id for r in by_split[s]) for s in SPLITS})
    write_json(out / "report.json", result)
    marker.unlink()
    if not report.total_windows:
        raise MusicVAEError(f"nothing usable: 0 windows from {report.pieces_listed} pieces "
                            f"({report.summary()}); see {out / 'report.json'}")
    return result


def data_config_dict(data_config: DataConfig) -> dict:
    """The DataConfig as JSON-ready values, plus the derived vocabulary and window size."""
    values = json.loads(json.dumps(dataclasses.asdict(data_config)))
    values.update(num_classes=data_config.num_classes, num_steps=data_config.num_steps)
    return values


class _progress_bar:
    """A rich progress bar over pieces (silent when ``enabled`` is false)."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total
        self.progress = None

    def __enter__(self):
        if not self.enabled:
            return lambda count: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
        from rich.progress import TimeElapsedColumn

        self.progress = Progress(TextColumn("prepare"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("pieces"), TimeElapsedColumn(),
                                 console=Console(file=sys.stderr))
        self.progress.start()
        task = self.progress.add_task("prepare", total=self.total)
        return lambda count: self.progress.advance(task, count)

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

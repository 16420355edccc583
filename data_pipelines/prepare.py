"""The prepare pipeline: list pieces, extract windows in a process pool, write shards and reports.

Output in ``out_dir``: ``{train,eval,test}-NNNNN-of-NNNNN.tfrecord`` shards, ``pieces.json``
(split -> sorted piece ids that gave windows), ``data_config.json`` (the DataConfig used) and
``report.json``. ``report.json`` is removed when a run starts and written last, so it marks a
finished run; shards are written atomically and stale shards of earlier runs are removed at the
end. The same inputs and config always give byte-identical shards.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import math
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from data_pipelines.extraction import extract_melody_spans
from data_pipelines.report import PrepareReport
from data_pipelines.shards import remove_stale_shards, write_shards
from data_pipelines.sources import PieceRef, list_pieces, load_ref
from data_pipelines.splits import SPLITS, split_for
from data_pipelines.windows import melody_windows
from musicvae_tf.config import Config, DataConfig
from musicvae_tf.errors import MusicVAEError
from musicvae_tf.io_utils import write_json

WINDOWS_PER_SHARD = 100_000


@dataclasses.dataclass
class PieceWindows:
    """One piece's kept windows (``tokens`` int16 [k, num_steps]) and skip counts."""

    piece_id: str
    readable: bool
    tokens: np.ndarray
    bar_offsets: np.ndarray
    skips: collections.Counter


def piece_windows(ref: PieceRef, data_config: DataConfig) -> PieceWindows:
    """Load one piece and cut all its distinct windows (the per-piece cap applies when training
    reads them, a fresh draw each epoch: see ``data_pipelines.reader``)."""
    empty = np.zeros((0, data_config.num_steps), np.int16)
    try:
        piece = load_ref(ref)
    except MusicVAEError:
        reason = "unreadable tune" if ref.kind == "abc" and not ref.error else "unreadable file"
        return PieceWindows(ref.piece_id, False, empty, np.zeros(0, np.int64),
                            collections.Counter({reason: 1}))
    melodies, skips = extract_melody_spans(piece.note_sequence, data_config)
    windows, window_skips = melody_windows(melodies, data_config, ref.piece_id)
    skips.update(window_skips)
    tokens = np.stack([w.tokens for w in windows]).astype(np.int16) if windows else empty
    offsets = np.asarray([w.bar_offset for w in windows], np.int64)
    return PieceWindows(ref.piece_id, True, tokens, offsets,
                        collections.Counter({k: v for k, v in skips.items() if v}))


def _process_chunk(refs: list[PieceRef], data_config: DataConfig) -> list[PieceWindows]:
    return [piece_windows(ref, data_config) for ref in refs]


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _iter_results(refs: list[PieceRef], data_config: DataConfig, workers: int):
    """Yield per-chunk result lists in input order, using ``workers`` processes."""
    chunk_size = max(1, min(64, math.ceil(len(refs) / max(1, workers * 16))))
    chunks = _chunks(refs, chunk_size)
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield _process_chunk(chunk, data_config)
        return
    # Fork keeps start-up cheap (the parent has already imported music21/note-seq); workers never
    # touch TensorFlow, which the parent imports only after the pool is closed.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(_process_chunk, chunks, [data_config] * len(chunks))


def prepare_dataset(config: Config, inputs: list[str] | None, corpora: list[str] | None,
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
    (out / "report.json").unlink(missing_ok=True)
    workers = max(1, workers or os.cpu_count() or 1)

    report = PrepareReport()
    by_split: dict[str, list[PieceWindows]] = {s: [] for s in SPLITS}
    with _progress_bar(progress, len(refs)) as advance:
        for chunk in _iter_results(refs, data_config, workers):
            for result in chunk:
                split = split_for(result.piece_id, data_config)
                report.add_piece(result.readable, split, len(result.tokens), result.skips)
                if len(result.tokens):
                    by_split[split].append(result)
            advance(len(chunk))

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
    remove_stale_shards(out, {name for names in shards.values() for name in names})

    result = report.to_dict(config=config.name, inputs=list(inputs or []),
                            corpora=list(corpora or []), shards=shards)
    if report.total_windows:
        write_json(out / "data_config.json", data_config_dict(data_config))
        write_json(out / "pieces.json",
                   {s: sorted(r.piece_id for r in by_split[s]) for s in SPLITS})
    write_json(out / "report.json", result)
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

"""Benchmark the data pipeline: prepare throughput (pieces/s, windows/s) and tf.data examples/s.

Uses the Nottingham MIDI set (top-level files: melody and chords) when it is present at
``../shared/data/nottingham/MIDI`` or ``/work/shared/data/nottingham/MIDI``, else a generated
folder. Prints one JSON object. Usage: python bench/data_pipeline.py [--workers N] [--config C]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

CANDIDATES = ("../shared/data/nottingham/MIDI", "/work/shared/data/nottingham/MIDI")


def midi_files(scratch: Path) -> tuple[list[str], str]:
    """The benchmark's input files and a label saying where they came from."""
    for candidate in CANDIDATES:
        folder = Path(candidate)
        if folder.is_dir():
            files = sorted(str(p) for p in folder.glob("*.mid"))
            if files:
                return files, str(folder.resolve())
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from midi_factory import make_midi, scale_notes, write

    files = []
    for index in range(300):
        notes = scale_notes(first_pitch=40 + index % 40, bars=32)
        chords = [(48 + index % 12 + k, bar * 4, bar * 4 + 4) for bar in range(32) for k in (0, 4, 7)]
        path = write(make_midi(notes, tracks=[(chords, 0, False)]), scratch / "midi" / f"g{index}.mid")
        files.append(str(path))
    return files, "generated"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--config", default="cat-mel_2bar_small")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--read-batches", type=int, default=200)
    args = parser.parse_args()

    from data_pipelines.prepare import prepare_dataset
    from musicvae_tf.config import load_config

    config = load_config(args.config)
    with tempfile.TemporaryDirectory() as scratch:
        files, source = midi_files(Path(scratch))
        out = Path(scratch) / "prepared"
        start = time.perf_counter()
        report = prepare_dataset(config, files, None, out, workers=args.workers, progress=False)
        prepare_seconds = time.perf_counter() - start
        windows = sum(report["windows"].values())

        import tensorflow as tf  # noqa: F401  (imported before timing the reader)

        from data_pipelines.reader import make_dataset

        dataset = make_dataset(out, "train", config.data, args.batch_size, training=True, seed=0)
        iterator = iter(dataset)
        for _ in range(10):
            next(iterator)
        start = time.perf_counter()
        for _ in range(args.read_batches):
            one_hot, _ = next(iterator)
        one_hot.numpy()
        read_seconds = time.perf_counter() - start
    print(json.dumps({
        "source": source,
        "config": args.config,
        "workers": args.workers,
        "pieces": report["pieces_listed"],
        "windows": windows,
        "windows_per_split": report["windows"],
        "prepare_seconds": round(prepare_seconds, 2),
        "pieces_per_second": round(report["pieces_listed"] / prepare_seconds, 1),
        "windows_per_second": round(windows / prepare_seconds, 1),
        "tf_data_examples_per_second": round(args.read_batches * args.batch_size / read_seconds),
        "tf_data_batch_size": args.batch_size,
    }, indent=2))


if __name__ == "__main__":
    main()

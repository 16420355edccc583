"""Generation inputs named by piece id: corpus pieces and the held-out pieces of a prepared data folder.

``prepare`` writes ``DIR/pieces.json`` (split -> piece ids); picking inputs from its ``test`` split
guarantees the model never trained on them (the split is a stable hash of the piece id).
"""

from __future__ import annotations

import json
from pathlib import Path

from data_pipelines.errors import MusicVAEError, UsageError

PIECES_FILE = "pieces.json"


def load_piece_sequence(piece_id: str):
    """The NoteSequence of a piece id (a file path, ``file#tune`` or ``music21:...`` corpus id)."""
    from data_pipelines import load_piece

    try:
        piece = load_piece(piece_id)
    except MusicVAEError:
        raise
    except Exception as exc:  # Readers raise many types for a bad id; the user needs one line.
        raise MusicVAEError(f"cannot load piece {piece_id}: {type(exc).__name__}: {exc}") from None
    sequence = piece.note_sequence
    if not sequence.id:
        sequence.id = piece_id
    return sequence


def split_piece_ids(data_dir: str | Path, split: str) -> list[str]:
    """The piece ids of ``split`` listed in ``data_dir/pieces.json``."""
    path = Path(data_dir) / PIECES_FILE
    if not Path(data_dir).is_dir():
        raise MusicVAEError(f"data directory not found: {data_dir}")
    if not path.is_file():
        raise MusicVAEError(f"{path} not found: prepare the data with `musicvae-tf prepare` first")
    try:
        listing = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MusicVAEError(f"cannot read {path}: {exc}") from None
    if not isinstance(listing, dict) or split not in listing:
        known = ", ".join(sorted(listing)) if isinstance(listing, dict) else "none"
        raise MusicVAEError(f"{path} lists no {split!r} split (splits: {known})")
    return [str(piece_id) for piece_id in listing[split]]


def pieces_from_split(arguments: list[str], model, count: int = 2) -> tuple[list, list[str]]:
    """The first ``count`` pieces of a split that give a window for ``model``.

    ``arguments`` is ``[DATA_DIR]`` or ``[DATA_DIR, SPLIT]`` (split defaults to ``test``).
    Returns (NoteSequences, piece ids). Pieces are tried in the order ``pieces.json`` lists them.
    """
    if not 1 <= len(arguments) <= 2:
        raise UsageError("--from-split takes DATA_DIR and optionally a split name (default test)")
    data_dir, split = arguments[0], arguments[1] if len(arguments) == 2 else "test"
    if split not in ("train", "eval", "test"):
        raise UsageError(f"unknown split {split!r}; choose train, eval or test")
    sequences, names = [], []
    for piece_id in split_piece_ids(data_dir, split):
        try:
            sequence = load_piece_sequence(piece_id)
            model.windows(sequence)
        except MusicVAEError:
            continue  # Too short for this model, wrong meter, ...: try the next piece.
        sequences.append(sequence)
        names.append(piece_id)
        if len(sequences) == count:
            return sequences, names
    raise MusicVAEError(f"the {split} split of {data_dir} has only {len(sequences)} piece(s) with a "
                        f"{model.data_config.num_bars}-bar window; {count} are needed")

"""Finding pieces: MIDI files, ABC tunebooks, NoteSequence TFRecords and music21's built-in corpora.

Every piece has a stable id that :func:`load_piece` resolves again:
``music21:bach/bwv66.6.mxl`` (MusicXML corpora, one piece per file),
``path/to/song.mid``, ``path/to/book.abc#12`` (12th tune of the file), ``path/to/data.tfrecord#3``
(3rd record) and ``music21:oneills1850/0001-0050.abc#12``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Iterator

from data_pipelines.errors import MusicVAEError, UsageError

MIDI_SUFFIXES = (".mid", ".midi")
ABC_SUFFIXES = (".abc",)
TFRECORD_SUFFIXES = (".tfrecord", ".tfrecords")
SUFFIXES = MIDI_SUFFIXES + ABC_SUFFIXES + TFRECORD_SUFFIXES
MUSIC21_CORPORA = ("essenFolksong", "oneills1850", "ryansMammoth", "airdsAirs", "bach")
# music21 corpora of MusicXML files (one piece per file; read with note_seq's MusicXML reader).
MUSICXML_CORPORA = ("bach",)
MUSICXML_SUFFIXES = (".mxl", ".xml", ".musicxml")
MUSIC21_PREFIX = "music21:"


@dataclasses.dataclass(frozen=True)
class Piece:
    """One source piece: its stable id and its notes."""

    piece_id: str
    note_sequence: object


@dataclasses.dataclass(frozen=True)
class PieceRef:
    """Where to find a piece without loading it (cheap to list and to send to a worker).

    ``kind`` is ``"midi"``, ``"abc"`` (``text`` holds the tune) or ``"notesequence"``, ``"musicxml"`` (``offset`` is
    the record's byte offset in ``path``, -1 for the damaged rest of a file); ``error`` marks a
    source that could not even be listed.
    """

    piece_id: str
    kind: str
    path: str
    text: str = ""
    offset: int = 0
    error: str = ""


def music21_corpus_dir(name: str) -> Path:
    """The folder of one of music21's bundled ABC corpora; UsageError for other names."""
    if name not in MUSIC21_CORPORA:
        raise UsageError(f"unknown corpus {MUSIC21_PREFIX}{name}; choose one of: "
                         + ", ".join(MUSIC21_PREFIX + c for c in MUSIC21_CORPORA))
    import music21.corpus

    folder = Path(music21.corpus.__file__).parent / name
    if not folder.is_dir():
        raise MusicVAEError(f"music21 corpus {name} is not installed with this music21")
    return folder


def list_pieces(inputs: list[str] | None, corpora: list[str] | None) -> list[PieceRef]:
    """Every piece under ``inputs`` (files or folders, recursively) and ``corpora``, in a stable order.

    Raises UsageError for a missing path, an unsupported file type or an unknown corpus.
    """
    refs: list[PieceRef] = []
    for name in corpora or []:
        if not name.startswith(MUSIC21_PREFIX):
            raise UsageError(f"unknown corpus {name!r}; corpora are named like "
                             f"{MUSIC21_PREFIX}oneills1850 ({', '.join(MUSIC21_CORPORA)})")
        corpus = name[len(MUSIC21_PREFIX):]
        folder = music21_corpus_dir(corpus)
        if corpus in MUSICXML_CORPORA:
            refs.extend(PieceRef(f"{MUSIC21_PREFIX}{corpus}/{path.name}", "musicxml", str(path))
                        for path in sorted(folder.iterdir())
                        if path.suffix.lower() in MUSICXML_SUFFIXES)
            continue
        for path in sorted(folder.glob("*.abc")):
            refs.extend(_abc_refs(str(path), f"{MUSIC21_PREFIX}{corpus}/{path.name}"))
    for item in inputs or []:
        path = Path(item)
        if path.is_dir():
            files = sorted(str(p) for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in SUFFIXES)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise UsageError(f"{item}: unsupported file type (use {', '.join(SUFFIXES)})")
            files = [str(path)]
        else:
            raise UsageError(f"input not found: {item}")
        for file in files:
            refs.extend(_file_refs(os.path.normpath(file)))
    return refs


def _file_refs(path: str) -> list[PieceRef]:
    suffix = Path(path).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return [PieceRef(path, "midi", path)]
    if suffix in ABC_SUFFIXES:
        return _abc_refs(path, path)
    from data_pipelines.tfrecord_source import record_offsets

    try:
        offsets, damage = record_offsets(path)
    except MusicVAEError as exc:
        return [PieceRef(path, "notesequence", path, error=str(exc))]
    refs = [PieceRef(f"{path}#{i}", "notesequence", path, offset=o)
            for i, o in enumerate(offsets, start=1)]
    if damage:  # the good records before the damage are kept; the rest is one unreadable record
        refs.append(PieceRef(f"{path}#{len(offsets) + 1}", "notesequence", path,
                             offset=-1, error=f"{path}: {damage}"))
    return refs


def _abc_refs(path: str, id_prefix: str) -> list[PieceRef]:
    from data_pipelines.abc_source import read_abc_text, split_tunebook

    try:
        tunes = split_tunebook(read_abc_text(path))
    except MusicVAEError as exc:
        return [PieceRef(id_prefix, "abc", path, error=str(exc))]
    if not tunes:
        return [PieceRef(id_prefix, "abc", path, error=f"{path}: no ABC tune")]
    return [PieceRef(f"{id_prefix}#{i}", "abc", path, text=tune)
            for i, tune in enumerate(tunes, start=1)]


def load_ref(ref: PieceRef) -> Piece:
    """Load a listed piece; MusicVAEError if it cannot be read."""
    if ref.error:
        raise MusicVAEError(ref.error)
    if ref.kind == "midi":
        from data_pipelines.midi_source import read_midi_file

        sequence = read_midi_file(ref.path)
    elif ref.kind == "abc":
        from data_pipelines.abc_source import abc_tune_to_note_sequence

        sequence = abc_tune_to_note_sequence(ref.text, ref.piece_id)
    elif ref.kind == "musicxml":
        sequence = _read_musicxml(ref.path)
    else:
        from data_pipelines.tfrecord_source import read_note_sequence

        sequence = read_note_sequence(ref.path, ref.offset)
    return Piece(ref.piece_id, sequence)


def _read_musicxml(path: str):
    from data_pipelines._note_seq import note_seq

    try:
        return note_seq.musicxml_file_to_sequence_proto(path)
    except Exception as exc:  # the reader raises many kinds of errors for a damaged file
        raise MusicVAEError(f"{path}: unreadable MusicXML ({type(exc).__name__})") from None


def iter_pieces(inputs: list[str] | None, corpora: list[str] | None = None) -> Iterator[Piece]:
    """Load every readable piece of ``inputs`` and ``corpora`` in order (unreadable ones are skipped)."""
    for ref in list_pieces(inputs, corpora):
        try:
            yield load_ref(ref)
        except MusicVAEError:
            continue


def load_piece(piece_id: str) -> Piece:
    """Load one piece by the id that :func:`list_pieces` gave it."""
    base, sep, index = piece_id.rpartition("#")
    if not sep or not index.isdigit():
        base, index = piece_id, ""
    if base.startswith(MUSIC21_PREFIX):
        corpus, _, file_name = base[len(MUSIC21_PREFIX):].partition("/")
        path = str(music21_corpus_dir(corpus) / file_name)
        if corpus in MUSICXML_CORPORA:
            return load_ref(PieceRef(base, "musicxml", path))
        refs = _abc_refs(path, base)
    elif os.path.isfile(base):
        refs = _file_refs(os.path.normpath(base))
    else:
        raise MusicVAEError(f"piece not found: {piece_id}")
    for ref in refs:
        if ref.piece_id == piece_id or (not index and ref.piece_id == base):
            return load_ref(ref)
    raise MusicVAEError(f"piece not found: {piece_id}")

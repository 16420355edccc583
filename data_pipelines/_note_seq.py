"""Import note-seq quietly: its package init probes for ffmpeg (pydub) and warns on every import."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import note_seq  # noqa: F401  (re-exported)
    from note_seq.protobuf import music_pb2  # noqa: F401

NoteSequence = music_pb2.NoteSequence

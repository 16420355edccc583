"""Turn MIDI, ABC, NoteSequence TFRecords and music21's built-in corpora into token windows."""

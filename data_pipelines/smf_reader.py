"""A small, fast Standard MIDI File reader that builds a NoteSequence directly.

pretty_midi (via mido) spends ~15 ms per small file building message objects; this reader walks
the bytes once and only keeps what melody extraction needs: notes (with track, channel, program),
tempo and time-signature changes. Like pretty_midi (and so Magenta), tempo and time-signature
events count only on the first track. Note-offs end the earliest open note of the same pitch on the
same track and channel; a note-on with velocity 0 is a note-off; the drum channel is 10. Files it
cannot parse (a tempo of 0 microseconds per quarter included) raise ``ValueError`` or
``IndexError`` (callers fall back to pretty_midi).
"""

from __future__ import annotations

import bisect

_DATA_BYTES = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}


def _varlen(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    while True:
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos


def parse_smf(data: bytes):
    """Parse MIDI file bytes into ``(notes, tempos, meters, resolution)``.

    ``notes`` = [(start_tick, end_tick, pitch, velocity, instrument_key)] with instrument_key
    ``(track, channel, program)``; ``tempos`` = [(tick, microseconds_per_quarter)];
    ``meters`` = [(tick, numerator, denominator)].
    """
    if data[:4] != b"MThd":
        raise ValueError("no MThd header")
    header_length = int.from_bytes(data[4:8], "big")
    ntracks = int.from_bytes(data[10:12], "big")
    division = int.from_bytes(data[12:14], "big")
    if division & 0x8000 or division == 0:
        raise ValueError("SMPTE time division")
    pos = 8 + header_length
    notes, tempos, meters = [], [], []
    for track in range(ntracks):
        if data[pos:pos + 4] != b"MTrk":
            raise ValueError("missing MTrk chunk")
        length = int.from_bytes(data[pos + 4:pos + 8], "big")
        pos += 8
        end = pos + length
        if end > len(data):
            raise ValueError("truncated track")
        _read_track(data, pos, end, track, notes, tempos, meters)
        pos = end
    return notes, tempos, meters, division


def _read_track(data, pos, end, track, notes, tempos, meters) -> None:
    tick = 0
    status = 0
    programs = [0] * 16
    open_notes: dict[tuple[int, int], list] = {}
    while pos < end:
        delta, pos = _varlen(data, pos)
        tick += delta
        byte = data[pos]
        if byte >= 0x80:
            pos += 1
            if byte < 0xF0:
                status = byte
        else:
            byte = status
            if not byte:
                raise ValueError("data byte without running status")
        if byte == 0xFF:
            kind = data[pos]
            size, pos = _varlen(data, pos + 1)
            if track == 0 and kind == 0x51 and size == 3:
                micros = int.from_bytes(data[pos:pos + 3], "big")
                if not micros:
                    raise ValueError("tempo 0")
                tempos.append((tick, micros))
            elif track == 0 and kind == 0x58 and size >= 2:
                meters.append((tick, data[pos], 2 ** data[pos + 1]))
            elif kind == 0x2F:
                break
            pos += size
            continue
        if byte in (0xF0, 0xF7):
            size, pos = _varlen(data, pos)
            pos += size
            continue
        kind, channel = byte & 0xF0, byte & 0x0F
        count = _DATA_BYTES.get(kind)
        if count is None:
            raise ValueError(f"unknown status byte {byte:#x}")
        if kind == 0x90 and data[pos + 1] > 0:
            key = (channel, data[pos])
            open_notes.setdefault(key, []).append((tick, data[pos + 1], programs[channel]))
        elif kind == 0x80 or kind == 0x90:
            pending = open_notes.get((channel, data[pos]))
            if pending:
                start, velocity, program = pending.pop(0)
                notes.append((start, tick, data[pos], velocity, (track, channel, program)))
        elif kind == 0xC0:
            programs[channel] = data[pos]
        pos += count
    for (channel, pitch), pending in open_notes.items():
        for start, velocity, program in pending:  # never ended: close at the track's last tick
            if tick > start:
                notes.append((start, tick, pitch, velocity, (track, channel, program)))


def smf_to_note_sequence(data: bytes):
    """Parse MIDI file bytes straight into a NoteSequence (ValueError/IndexError if malformed)."""
    from data_pipelines._note_seq import NoteSequence

    notes, tempos, meters, resolution = parse_smf(data)
    tempos.sort(key=lambda item: item[0])
    if not tempos or tempos[0][0] != 0:
        tempos.insert(0, (0, 500_000))
    # seconds at each tempo change, for tick -> seconds conversion
    ticks = [tick for tick, _ in tempos]
    seconds = [0.0]
    for (tick, micros), (next_tick, _) in zip(tempos, tempos[1:]):
        seconds.append(seconds[-1] + (next_tick - tick) * micros / 1e6 / resolution)

    def to_seconds(tick: int) -> float:
        index = bisect.bisect_right(ticks, tick) - 1
        return seconds[index] + (tick - ticks[index]) * tempos[index][1] / 1e6 / resolution

    sequence = NoteSequence()
    sequence.ticks_per_quarter = resolution
    last_qpm = None
    for tick, micros in tempos:
        qpm = 60e6 / micros
        if qpm != last_qpm:
            sequence.tempos.add(time=to_seconds(tick), qpm=qpm)
            last_qpm = qpm
    for tick, numerator, denominator in sorted(meters):
        sequence.time_signatures.add(time=to_seconds(tick), numerator=numerator,
                                     denominator=denominator)
    # instruments numbered by (track, channel, program), as pretty_midi usually orders them
    instruments = {key: index for index, key in enumerate(sorted({note[4] for note in notes}))}
    notes.sort(key=lambda note: (note[0], note[2]))
    add = sequence.notes.add
    for start, stop, pitch, velocity, key in notes:
        instrument = instruments[key]
        add(pitch=pitch, velocity=velocity, start_time=to_seconds(start),
            end_time=to_seconds(stop), instrument=instrument, program=key[2],
            is_drum=key[1] == 9)
    sequence.total_time = max((n.end_time for n in sequence.notes), default=0.0)
    return sequence

"""A corpus of malformed and edge-case MIDI, ABC and NoteSequence inputs, built from bytes.

Each :class:`Case` is one kind of damage or oddity; ``gives_windows`` says whether the input still
holds a usable 4/4 melody (odd but valid files, or files where only some notes are bad).
"""

from __future__ import annotations

import dataclasses
import random
import struct

from data_pipelines.shards import tfrecord
from midi_factory import make_sequence


@dataclasses.dataclass(frozen=True)
class Case:
    """One malformed input: file name (its suffix picks the reader), contents, expectation."""

    name: str
    data: bytes
    gives_windows: bool = False


def varlen(value: int) -> bytes:
    """A MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def smf(*tracks: bytes, division: int = 96, fmt: int = 1, ntracks: int | None = None,
        header_length: int = 6) -> bytes:
    """A Standard MIDI File from raw track event bytes."""
    count = len(tracks) if ntracks is None else ntracks
    header = struct.pack(">HHH", fmt, count, division).ljust(header_length, b"\0")
    return (b"MThd" + struct.pack(">I", header_length) + header
            + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks))


END = b"\x00\xff\x2f\x00"
TEMPO_120 = b"\x00\xff\x51\x03\x07\xa1\x20"


def meter(numerator: int, exponent: int) -> bytes:
    """A time-signature meta event at delta 0 (the denominator is 2 ** exponent)."""
    return b"\x00\xff\x58\x04" + bytes([numerator, exponent, 24, 8])


def melody_events(bars: int = 4, division: int = 96, first: int = 60, channel: int = 0) -> bytes:
    """Eighth notes rising and falling over ``bars`` 4/4 bars, so every bar differs."""
    eighth = division // 2
    out = b""
    for index in range(bars * 8):
        pitch = first + (index * 5) % 17
        out += b"\x00" + bytes([0x90 | channel, pitch, 90])
        out += varlen(eighth) + bytes([0x80 | channel, pitch, 0])
    return out


def good_track(bars: int = 4, prefix: bytes = TEMPO_120 + meter(4, 2)) -> bytes:
    """A valid first track: tempo, 4/4 and a melody."""
    return prefix + melody_events(bars) + END


def sequence(notes=(), *, tempos=((0.0, 120.0),), meters=((0.0, 4, 4),),
             total_time: float | None = None) -> bytes:
    """A serialized NoteSequence; ``notes`` = [(pitch, start, end)] in seconds."""
    proto = make_sequence(notes, tempos=tempos, meters=meters)
    if total_time is not None:
        proto.total_time = total_time
    return proto.SerializeToString()


def melody_notes(bars: int = 4, first: int = 60):
    """(pitch, start, end) eighth notes at 120 qpm over ``bars`` 4/4 bars."""
    return [(first + (i * 5) % 17, i * 0.25, (i + 1) * 0.25) for i in range(bars * 8)]


def records(*payloads: bytes) -> bytes:
    """A TFRecord file of ``payloads``."""
    return b"".join(tfrecord(p) for p in payloads)


HANGING_ABC = "X:1\nM:4/4\nK:C\nz100000|C|\n"  # music21 re-bars it for minutes
GOOD_ABC_BODY = "M:4/4\nL:1/8\nK:G\n|:GABc dedB|dedB dedB|c2ec B2dB|c2A2 A2BA:|\n"


def midi_cases() -> list[Case]:
    """Damaged, truncated and odd Standard MIDI Files."""
    rng = random.Random(12)
    good = smf(good_track())
    huge_gap = b"".join(varlen(0x0FFFFFFF) + b"\xff\x01\x00" for _ in range(4))
    return [
        Case("tempo_zero.mid", smf(b"\x00\xff\x51\x03\x00\x00\x00" + melody_events() + END)),
        Case("tempo_zero_midway.mid", smf(melody_events(2) + b"\x00\xff\x51\x03\x00\x00\x00"
                                          + melody_events(2) + END)),
        Case("tempo_fastest.mid", smf(b"\x00\xff\x51\x03\x00\x00\x01" + melody_events() + END),
             gives_windows=True),
        Case("tempo_slowest.mid", smf(b"\x00\xff\x51\x03\xff\xff\xff" + melody_events() + END),
             gives_windows=True),
        Case("meter_denominator_2_255.mid", smf(meter(4, 255) + melody_events() + END)),
        Case("meter_numerator_0.mid", smf(meter(0, 2) + melody_events() + END)),
        Case("meter_7_8.mid", smf(meter(7, 3) + melody_events() + END)),
        Case("meter_5_4.mid", smf(meter(5, 2) + melody_events() + END)),
        Case("meter_4_1.mid", smf(meter(4, 0) + melody_events() + END)),
        Case("meter_flip_every_bar.mid", smf(b"".join(
            meter(4, 2) + melody_events(1) + meter(3, 2) + melody_events(1) for _ in range(3))
            + END)),
        Case("huge_note_52_bytes.mid", smf(b"\x00\x90\x3c\x40" + huge_gap + b"\x00\x80\x3c\x00"
                                           + END, division=1)),
        Case("huge_gap_before_first_note.mid", smf(huge_gap + melody_events() + END, division=1)),
        Case("note_never_ended.mid", smf(b"\x00\x90\x3c\x40" + varlen(0x0FFFFFFF) + END[1:],
                                         division=1)),
        Case("empty.mid", b""),
        Case("only_mthd.mid", b"MThd"),
        Case("truncated_header.mid", good[:10]),
        Case("truncated_track.mid", good[:len(good) // 2]),
        Case("truncated_mid_event.mid", good[:-6]),
        Case("zero_length_track.mid", smf(b"")),
        Case("zero_length_tracks_then_good.mid", smf(b"", b"", good_track()), gives_windows=True),
        Case("no_tracks.mid", smf()),
        Case("claims_5_tracks_has_1.mid", smf(good_track(), ntracks=5)),
        Case("division_0.mid", smf(good_track(), division=0)),
        Case("smpte_division.mid", smf(good_track(), division=0xE728)),
        Case("header_length_100.mid", smf(good_track(), header_length=100), gives_windows=True),
        Case("format_2.mid", smf(good_track(), fmt=2), gives_windows=True),
        Case("running_status_at_track_start.mid", smf(b"\x00\x3c\x40" + melody_events() + END)),
        Case("running_status_across_meta.mid", smf(
            TEMPO_120 + b"\x00\x90\x3c\x40\x00\xff\x01\x00\x30\x3c\x00\x00\x3e\x40\x30\x3e\x00"
            + melody_events() + END), gives_windows=True),
        Case("running_status_after_sysex.mid", smf(
            b"\x00\x90\x3c\x40\x00\xf0\x01\xf7\x30\x3c\x00" + END)),
        Case("notes_after_end_of_track.mid", smf(good_track() + melody_events(8)),
             gives_windows=True),
        Case("note_offs_without_ons.mid", smf(b"".join(b"\x10\x80" + bytes([p, 0])
                                                        for p in range(40, 90)) + END)),
        Case("overlapping_same_pitch.mid", smf(b"".join(
            b"\x00\x90\x3c\x50\x18\x90\x3c\x50\x18\x80\x3c\x00" for _ in range(40)) + END),
             gives_windows=True),
        Case("velocity_zero_only.mid", smf(b"".join(b"\x00\x90" + bytes([p, 0]) + b"\x30\x80"
                                                     + bytes([p, 0]) for p in range(50, 80))
                                           + END)),
        Case("drums_only.mid", smf(melody_events(channel=9) + END)),
        Case("pitches_out_of_range.mid", smf(b"".join(b"\x00\x90" + bytes([p, 90]) + b"\x30\x80"
                                                       + bytes([p, 0]) for p in (0, 5, 120, 127)
                                                       * 8) + END)),
        Case("unterminated_varlen.mid", smf(b"\x00\x90\x3c\x40\xff\xff\xff")),
        Case("sysex_claims_huge_length.mid", smf(b"\x00\xf0\x8f\xff\xff\x7f\xf7" + END)),
        Case("meta_claims_huge_length.mid", smf(b"\x00\xff\x01\x8f\xff\xff\x7fabc" + END)),
        Case("unknown_status_f4.mid", smf(b"\x00\xf4\x00" + melody_events() + END)),
        Case("tempo_change_every_tick.mid", smf(b"".join(
            b"\x01\xff\x51\x03" + struct.pack(">I", 400_000 + 13 * i)[1:] for i in range(3000))
            + melody_events() + END), gives_windows=True),
        Case("two_hundred_tiny_tracks.mid", smf(*[b"\x00\x90\x3c\x40\x01\x80\x3c\x00" + END
                                                  for _ in range(200)])),
        Case("trailing_garbage.mid", good + bytes(rng.randrange(256) for _ in range(300)),
             gives_windows=True),
        Case("riff_wrapped.mid", b"RIFF" + struct.pack("<I", len(good) + 12) + b"RMIDdata"
             + struct.pack("<I", len(good)) + good),
        Case("garbage_bytes.mid", bytes(rng.randrange(256) for _ in range(500))),
        Case("text_with_mid_suffix.mid", b"this is not a MIDI file\n" * 20),
        Case("mtrk_without_mthd.mid", good[14:]),
        Case("nan_like_header.mid", b"MThd\xff\xff\xff\xff" + good[8:]),
    ]


def abc_cases() -> list[Case]:
    """Odd ABC tunes and tunebooks."""
    return [
        Case("rest_100000_eighths_hangs_music21.abc", HANGING_ABC.encode()),
        Case("note_100000_eighths.abc", b"X:1\nT:t\nM:4/4\nL:1/8\nK:C\nC100000|\n"),
        Case("empty.abc", b""),
        Case("only_x_line.abc", b"X:1\n"),
        Case("binary_garbage.abc", bytes(random.Random(5).randrange(256) for _ in range(400))),
        Case("meter_0_0.abc", b"X:1\nM:0/0\nL:1/8\nK:C\nCDEF GABc|cBAG FEDC|\n"),
        Case("meter_4_0.abc", b"X:1\nM:4/0\nL:1/8\nK:C\nCDEF GABc|cBAG FEDC|\n"),
        Case("length_1_0.abc", b"X:1\nM:4/4\nL:1/0\nK:C\nCDEF GABc|cBAG FEDC|\n"),
        Case("only_chord_symbols.abc", b'X:1\nM:4/4\nK:C\n"C" z4 | "G" z4 |\n'),
        Case("bad_tune_then_good_tune.abc", b"X:1\nM:4/4\nK:C\n(3C100000DE|\n\nX:2\nT:ok\n"
             + GOOD_ABC_BODY.encode(), gives_windows=True),
        Case("latin1_bytes.abc", b"X:1\nT:Caf\xe9\n" + GOOD_ABC_BODY.encode(),
             gives_windows=True),
        Case("odd_meter_13_16.abc", b"X:1\nM:13/16\nL:1/16\nK:C\nCDEFGABcdefga|bagfedcBAGFED|\n"),
    ]


def note_sequence_cases() -> list[Case]:
    """NoteSequence TFRecords with impossible values or damaged framing."""
    notes = melody_notes()
    good = sequence(notes)
    nan = float("nan")
    inf = float("inf")
    framed = records(good, good, good)
    return [
        Case("qpm_zero.tfrecord", records(sequence(notes, tempos=((0.0, 0.0),)))),
        Case("qpm_negative.tfrecord", records(sequence(notes, tempos=((0.0, -90.0),)))),
        Case("qpm_nan.tfrecord", records(sequence(notes, tempos=((0.0, nan),)))),
        Case("qpm_huge.tfrecord", records(sequence(notes, tempos=((0.0, 1e300),)))),
        Case("denominator_zero.tfrecord", records(sequence(notes, meters=((0.0, 4, 0),)))),
        Case("numerator_negative.tfrecord", records(sequence(notes, meters=((0.0, -4, 4),)))),
        Case("one_nan_start_time.tfrecord",
             records(sequence([(60, nan, 0.25)] + notes[1:])), gives_windows=True),
        Case("one_inf_end_time.tfrecord",
             records(sequence(notes[:-1] + [(60, notes[-1][1], inf)])), gives_windows=True),
        Case("all_nan_times.tfrecord", records(sequence([(60, nan, nan)] * 20))),
        Case("negative_times.tfrecord", records(sequence([(p, s - 100, e - 100)
                                                          for p, s, e in notes]))),
        Case("total_time_nan.tfrecord", records(sequence(notes, total_time=nan)),
             gives_windows=True),
        Case("tempo_time_nan.tfrecord", records(sequence(notes, tempos=((nan, 120.0),))),
             gives_windows=True),
        Case("end_before_start.tfrecord", records(sequence([(p, e, s) for p, s, e in notes])),
             gives_windows=True),
        Case("time_1e300.tfrecord", records(sequence(notes[:4] + [(60, 1.0, 1e300)]))),
        Case("pitch_1000.tfrecord", records(sequence([(1000, s, e) for _, s, e in notes]))),
        Case("truncated_third_record.tfrecord", framed[:-20], gives_windows=True),
        Case("corrupt_length_crc.tfrecord", framed[:len(framed) // 3 * 2]
             + b"\xff" * 12 + framed[len(framed) // 3 * 2:], gives_windows=True),
        Case("garbage_payload.tfrecord", records(b"\xff\xfe\xfd" * 50)),
        Case("empty_payload.tfrecord", records(b"")),
        Case("header_only.tfrecord", struct.pack("<Q", 10 ** 15)),
    ]


def all_cases() -> list[Case]:
    """Every malformed kind (MIDI, ABC and NoteSequence), names unique."""
    cases = midi_cases() + abc_cases() + note_sequence_cases()
    assert len({c.name for c in cases}) == len(cases)
    return cases

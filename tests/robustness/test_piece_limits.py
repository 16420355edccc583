"""The length cap (``data.max_piece_steps``) where a piece's length is first known, the tick cap of
the tolerant MIDI reader, and the tempo range a MIDI file can store; small limits keep these fast
(test_memory_bombs.py sends the enormous pieces)."""

from __future__ import annotations

import argparse

import pretty_midi
import pytest

from data_pipelines import midi_source
from data_pipelines.data_config import DataConfig
from data_pipelines.errors import MusicVAEError
from data_pipelines.tokens import DEFAULT_QPM, MIN_QPM, piece_steps, write_midi
from data_pipelines.windows import windows_from_file
from malformed_inputs import END, smf, varlen
from midi_factory import make_midi, make_sequence, scale_notes, write
from musicvae_tf.cli.generation_args import tempo
from musicvae_tf.models.inpainting.piece import piece_from_note_sequence

SMALL = DataConfig(num_bars=2, max_piece_steps=64)  # 4 bars of 16 steps


def bars_of_eighths(bars: int, qpm: float = 120.0):
    """A NoteSequence of eighth notes filling ``bars`` 4/4 bars at ``qpm``."""
    eighth = 30.0 / qpm
    return make_sequence([(60 + i % 12, i * eighth, (i + 1) * eighth) for i in range(bars * 8)],
                         tempos=((0.0, qpm),))


def test_a_piece_at_the_limit_is_read_and_one_bar_more_is_refused_naming_both():
    assert piece_from_note_sequence(bars_of_eighths(4), "four.mid", SMALL).num_bars == 4
    with pytest.raises(MusicVAEError) as refused:
        piece_from_note_sequence(bars_of_eighths(5), "five.mid", SMALL)
    assert str(refused.value) == ("five.mid is 80 steps (5 bars) long, over the limit of 64 steps "
                                  "(data.max_piece_steps)")


def test_windows_of_a_file_are_refused_by_the_same_limit(tmp_path):
    path = write(make_midi(scale_notes(bars=6)), tmp_path / "six.mid")
    assert windows_from_file(str(write(make_midi(scale_notes(bars=4)), tmp_path / "four.mid")),
                             SMALL)
    with pytest.raises(MusicVAEError, match=r"six.mid is 96 steps \(6 bars\) long, over the limit "
                                            r"of 64 steps"):
        windows_from_file(str(path), SMALL)


def test_piece_length_follows_the_tempo_map_and_skips_impossible_times():
    # 120 qpm for 1 s (2 quarters, 8 steps), then 60 qpm: a note ending at 3 s ends at step 16.
    sequence = make_sequence([(60, 0.0, 3.0)], tempos=((0.0, 120.0), (1.0, 60.0)))
    assert piece_steps(sequence, SMALL) == 16
    sequence.notes.add(pitch=62, start_time=1.0, end_time=float("inf"), velocity=90)
    sequence.notes.add(pitch=62, start_time=float("nan"), end_time=2.0, velocity=90)
    assert piece_steps(sequence, SMALL) == 16
    assert piece_steps(make_sequence([]), SMALL) == 0


def test_a_meter_with_a_zero_denominator_is_a_wrong_meter_not_a_crash():
    sequence = bars_of_eighths(4)
    sequence.time_signatures[0].denominator = 0
    with pytest.raises(MusicVAEError, match="wrong meter in zero.mid: 4/0"):
        piece_from_note_sequence(sequence, "zero.mid", SMALL)


@pytest.mark.parametrize("qpm, kept", [(1.0, MIN_QPM), (5000.0, 1000.0), (0.0, DEFAULT_QPM),
                                       (float("nan"), DEFAULT_QPM), (90.0, 90.0)])
def test_a_piece_keeps_a_tempo_its_outputs_can_be_written_at(qpm, kept):
    sequence = bars_of_eighths(4)
    sequence.tempos[0].qpm = qpm
    assert piece_from_note_sequence(sequence, "t.mid", DataConfig()).qpm == pytest.approx(kept)


def test_the_tolerant_reader_refuses_a_file_spanning_too_many_ticks(monkeypatch):
    monkeypatch.setattr(midi_source, "MAX_FALLBACK_TICKS", 1000)
    note_on = b"\x00\xf1\x10\x00\x90\x3c\x40"  # 0xF1 (MTC quarter frame) only mido reads

    def file_of(ticks: int) -> bytes:
        return smf(note_on + varlen(ticks) + b"\x80\x3c\x00" + END, division=96)

    assert len(midi_source.midi_bytes_to_note_sequence(file_of(960), "short.mid").notes) == 1
    with pytest.raises(MusicVAEError) as refused:
        midi_source.midi_bytes_to_note_sequence(file_of(2000), "long.mid")
    assert str(refused.value) == "long.mid: too long to read (2,000 ticks, at most 1,000 in a file this malformed)"


def test_tempos_are_checked_against_what_a_midi_file_stores(tmp_path):
    assert tempo("3.5763") == 3.5763 and tempo("1000") == 1000.0
    for text in ("3.57", "1", "0", "1000.5", "nan", "inf"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"a tempo must lie in 3\.576\.\.1000 qpm"):
            tempo(text)
    path = write_midi([2 + 60 - 21] + [0] * 31, tmp_path / "slow.mid", DataConfig(), qpm=MIN_QPM)
    written = pretty_midi.PrettyMIDI(path)
    assert written.get_tempo_changes()[1][0] == pytest.approx(MIN_QPM, rel=1e-6)

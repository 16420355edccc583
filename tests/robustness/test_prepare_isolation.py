"""One bad piece costs only itself: a worker that dies or hangs past the alarm, a NaN note, a
damaged TFRecord; report.json names the skipped pieces (capped); half-prepared dirs are refused."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

import data_pipelines.prepare as prepare_module
from data_pipelines.data_dir import INCOMPLETE_MARKER, check_prepared_data
from data_pipelines.extraction import extract_melodies
from data_pipelines.prepare import prepare_dataset
from data_pipelines.report import MAX_NAMED_PIECES, PrepareReport
from data_pipelines.tfrecord_source import record_offsets
from data_pipelines.worker_pool import ordered_map
from malformed_inputs import melody_notes, records, sequence
from midi_factory import make_midi, make_sequence, scale_notes, write
from musicvae_tf.cli import main
from musicvae_tf.config import DataConfig, load_config
from data_pipelines.errors import MusicVAEError


def songs(folder, count=5):
    for index in range(count):
        write(make_midi(scale_notes(first_pitch=50 + 2 * index, bars=6)), folder / f"s{index}.mid")
    return folder


def misbehave_on(monkeypatch, name: str, action) -> None:
    """Make reading the piece ``name`` run ``action`` (workers fork, so they see the patch)."""
    original = prepare_module._read_and_cut

    def patched(ref, data_config):
        if ref.piece_id.endswith(name):
            action()
        return original(ref, data_config)

    monkeypatch.setattr(prepare_module, "_read_and_cut", patched)


def run(folder, out, *overrides):
    config = load_config("cat-mel_2bar_small", list(overrides))
    return prepare_dataset(config, [str(folder)], None, out, workers=2, progress=False)


def test_a_worker_that_dies_costs_only_its_piece(tmp_path, monkeypatch):
    inputs = songs(tmp_path / "in")
    alone = run(inputs, tmp_path / "alone")
    write(make_midi(scale_notes(bars=6)), inputs / "crash.mid")
    misbehave_on(monkeypatch, "crash.mid", lambda: os._exit(3))
    report = run(inputs, tmp_path / "out")
    assert report["skipped_pieces"]["worker crashed"] == {"pieces": 1,
                                                         "first": [str(inputs / "crash.mid")]}
    assert report["windows"] == alone["windows"]


def _square_or_crash(item: int) -> int:
    if item == 5:
        os._exit(1)
    return item * item


def test_a_crashed_chunk_is_retried_item_by_item_in_order():
    results = list(ordered_map(_square_or_crash, list(range(10)), 2, 4, 0,
                               lambda item, reason: reason))
    assert results == [0, 1, 4, 9, 16, "worker crashed", 36, 49, 64, 81]


def test_a_hang_the_alarm_cannot_stop_is_killed(tmp_path, monkeypatch):
    def stuck():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # like a long C call
        time.sleep(120)

    inputs = songs(tmp_path / "in")
    write(make_midi(scale_notes(bars=6)), inputs / "stuck.mid")
    misbehave_on(monkeypatch, "stuck.mid", stuck)
    started = time.monotonic()
    report = run(inputs, tmp_path / "out", "data.max_seconds_per_piece=0.5")
    assert time.monotonic() - started < 30
    assert report["skipped_pieces"]["timed out"]["first"] == [str(inputs / "stuck.mid")]
    assert sum(report["windows"].values()) > 0


def test_any_exception_is_a_named_skip(tmp_path, monkeypatch):
    def explode():
        raise ZeroDivisionError("tempo 0")

    inputs = songs(tmp_path / "in", count=3)
    write(make_midi(scale_notes(bars=6)), inputs / "zero.mid")
    misbehave_on(monkeypatch, "zero.mid", explode)
    config = load_config("cat-mel_2bar_small")
    report = prepare_dataset(config, [str(inputs)], None, tmp_path / "out", workers=1,
                             progress=False)
    assert report["skipped_pieces"]["failed (ZeroDivisionError)"]["first"] == [
        str(inputs / "zero.mid")]
    assert report["pieces_read"] == 3


def test_one_nan_note_drops_only_that_note():
    config = DataConfig(num_bars=2)
    notes = melody_notes(4)
    clean, _ = extract_melodies(make_sequence(notes[1:]), config)
    nan = float("nan")
    for bad in ((60, nan, 0.25), (60, 0.0, nan), (60, float("inf"), 1.0), (60, -1.0, 0.2)):
        melodies, skips = extract_melodies(make_sequence([bad] + notes[1:]), config)
        assert skips["bad note times"] == 1
        assert [m.tolist() for m in melodies] == [m.tolist() for m in clean]


def test_a_piece_over_max_piece_steps_is_skipped_before_allocating():
    config = DataConfig(num_bars=2, max_piece_steps=1000)
    fits = make_sequence([(60, 0.0, 1000 / 8 - 1)])  # 8 steps per second at 120 qpm
    huge = make_sequence([(60, 0.0, 1e12)])
    assert extract_melodies(fits, config)[1]["too long"] == 0
    started = time.monotonic()
    melodies, skips = extract_melodies(huge, DataConfig(num_bars=2))
    assert melodies == [] and skips["too long"] == 1
    assert time.monotonic() - started < 1


def test_a_damaged_tfrecord_keeps_the_records_before_the_damage(tmp_path):
    payload = sequence(melody_notes(4))
    path = tmp_path / "seqs.tfrecord"
    path.write_bytes(records(payload, payload, payload)[:-10])
    offsets, damage = record_offsets(str(path))
    assert len(offsets) == 2 and "truncated" in damage
    framed = bytearray(records(payload, payload))
    framed[len(framed) // 2 + 2] ^= 0xFF  # inside the second record's length field
    path.write_bytes(bytes(framed))
    offsets, damage = record_offsets(str(path))
    assert len(offsets) == 1 and "corrupt" in damage


def test_report_names_at_most_50_pieces_per_reason():
    report = PrepareReport()
    for index in range(70):
        report.add_piece(f"bad{index}.mid", False, "train", 0, {"unreadable file": 1})
    report.add_piece("empty.mid", True, "train", 0, {"no notes": 1})
    skipped = report.to_dict()["skipped_pieces"]
    assert skipped["unreadable file"]["pieces"] == 70
    assert skipped["unreadable file"]["first"] == [f"bad{i}.mid" for i in range(MAX_NAMED_PIECES)]
    assert skipped["no windows"] == skipped["no notes"] == {"pieces": 1, "first": ["empty.mid"]}


def test_a_half_prepared_dir_is_refused_until_prepared_again(tmp_path, capsys):
    inputs = songs(tmp_path / "in")
    out = tmp_path / "out"
    config = load_config("cat-mel_2bar_small")
    prepare_dataset(config, [str(inputs)], None, out, workers=1, num_shards=2, progress=False)
    check_prepared_data(out, config.data, "train")
    (out / INCOMPLETE_MARKER).write_text("")
    with pytest.raises(MusicVAEError, match="last prepare did not finish"):
        check_prepared_data(out, config.data, "train")
    code = main(["train", "--config", "cat-mel_2bar_small", "--data", str(out), "--run-dir",
                 str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "did not finish" in err and "\n" not in err
    report = prepare_dataset(config, [str(inputs)], None, out, workers=1, progress=False)
    assert not (out / INCOMPLETE_MARKER).exists()
    assert sorted(p.name for p in out.glob("*.tfrecord")) == sorted(
        n for names in report["shards"].values() for n in names)
    assert json.loads((out / "report.json").read_text()) == report

"""Every malformed input kind through ``musicvae-tf prepare``: a counted skip named in report.json
(or its windows, for odd but usable files), never a traceback, and the good pieces prepared beside
them keep exactly the windows they give alone."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

import pytest

from data_pipelines.prepare import prepare_dataset
from data_pipelines.sources import list_pieces
from malformed_inputs import GOOD_ABC_BODY, all_cases, melody_notes, records, sequence
from midi_factory import make_midi, scale_notes, write
from musicvae_tf.config import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = "cat-mel_2bar_small"
OVERRIDES = ["data.max_seconds_per_piece=2"]


def write_corpus(root: Path) -> tuple[Path, Path]:
    """``root/bad`` holds every malformed kind, ``root/good`` four songs in three formats."""
    bad, good = root / "bad", root / "good"
    bad.mkdir()
    for case in all_cases():
        (bad / case.name).write_bytes(case.data)
    for index in range(2):
        write(make_midi(scale_notes(first_pitch=50 + 3 * index, bars=6)), good / f"song{index}.mid")
    (good / "reel.abc").write_text("X:1\nT:reel\n" + GOOD_ABC_BODY)
    (good / "seqs.tfrecord").write_bytes(records(sequence(melody_notes(6, first=55))))
    return bad, good


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    bad, good = write_corpus(root)
    mixed = root / "mixed"
    command = [sys.executable, "-m", "musicvae_tf.cli", "prepare", "--config", CONFIG,
               "--input", str(bad), str(good), "--out", str(mixed), "--workers", "2", "--quiet",
               *(arg for item in OVERRIDES for arg in ("--set", item))]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    alone = root / "alone"
    prepare_dataset(load_config(CONFIG, OVERRIDES), [str(good)], None, alone, workers=1,
                    progress=False)
    report = json.loads((mixed / "report.json").read_text())
    return bad, good, mixed, alone, finished, report


def test_the_corpus_covers_at_least_40_kinds():
    cases = all_cases()
    assert len(cases) >= 40
    assert {Path(c.name).suffix for c in cases} == {".mid", ".abc", ".tfrecord"}


def test_prepare_finishes_with_exit_0_and_no_traceback(corpus):
    bad, good, mixed, alone, finished, report = corpus
    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr and "Traceback" not in finished.stdout
    assert "prepared" in finished.stdout
    assert not (mixed / "prepare.incomplete").exists()


def test_every_piece_is_either_windows_or_a_named_skip(corpus):
    bad, good, mixed, alone, finished, report = corpus
    refs = list_pieces([str(bad), str(good)], None)
    assert report["pieces_listed"] == len(refs)
    with_windows = {i for ids in json.loads((mixed / "pieces.json").read_text()).values()
                    for i in ids}
    named = {i for entry in report["skipped_pieces"].values() for i in entry["first"]}
    for ref in refs:
        assert ref.piece_id in with_windows or ref.piece_id in named, ref.piece_id
    for reason, entry in report["skipped_pieces"].items():
        assert entry["pieces"] == len(entry["first"]) <= 50, reason
    # every kind is handled by a specific rule, not by the catch-all for unexpected errors
    assert not [r for r in report["skipped"] if r.startswith("failed")]
    for case in all_cases():
        gave = any(i.startswith(str(bad / case.name)) for i in with_windows)
        assert gave == case.gives_windows, case.name


def test_skip_reasons_of_the_classic_failures(corpus):
    bad, good, mixed, alone, finished, report = corpus

    def reasons(name: str) -> set[str]:
        return {r for r, entry in report["skipped_pieces"].items()
                if any(i.startswith(str(bad / name)) for i in entry["first"])}

    assert "too long" in reasons("huge_note_52_bytes.mid")
    assert "too long" in reasons("note_100000_eighths.abc")
    assert "timed out" in reasons("rest_100000_eighths_hangs_music21.abc")
    assert "unreadable file" in reasons("tempo_zero.mid")
    assert "bad tempo" in reasons("qpm_zero.tfrecord")
    assert "meter 4/0" in reasons("denominator_zero.tfrecord")
    assert "bad note times" in reasons("one_nan_start_time.tfrecord")
    assert "unreadable record" in reasons("truncated_third_record.tfrecord")
    documented = report["skip_units"]
    assert all(r in documented or r.startswith(("meter ", "failed (")) for r in report["skipped"])


def test_good_pieces_keep_exactly_their_windows(corpus):
    from data_pipelines.reader import read_windows

    bad, good, mixed, alone, finished, report = corpus
    data_config = load_config(CONFIG, OVERRIDES).data

    def windows_per_piece(data_dir: Path) -> collections.Counter:
        counts = collections.Counter()
        for split in ("train", "eval", "test"):
            if list(data_dir.glob(f"{split}-*.tfrecord")):
                for record in read_windows(data_dir, split, data_config).as_numpy_iterator():
                    counts[record["piece_id"].decode()] += 1
        return counts

    expected = windows_per_piece(alone)
    got = windows_per_piece(mixed)
    assert len(expected) == 4 and sum(expected.values()) > 0
    assert {k: v for k, v in got.items() if k.startswith(str(good))} == expected
    assert sum(got.values()) == sum(report["windows"].values())


def test_in_process_prepare_gives_the_same_report(corpus, tmp_path):
    bad, good, mixed, alone, finished, report = corpus
    again = prepare_dataset(load_config(CONFIG, OVERRIDES), [str(bad), str(good)], None,
                            tmp_path / "again", workers=1, progress=False)
    for key in ("pieces_listed", "pieces_read", "windows", "skipped", "skipped_pieces"):
        assert again[key] == report[key], key

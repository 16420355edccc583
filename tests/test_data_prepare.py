"""prepare end to end (library and CLI): shards, reports, skips, splits without leakage, reruns."""

import json

import pytest

from data_pipelines.data_dir import INCOMPLETE_MARKER
from data_pipelines.prepare import prepare_dataset
from data_pipelines.splits import split_for
from midi_factory import make_midi, scale_notes, write
from musicvae_tf.cli import main
from musicvae_tf.config import DataConfig, load_config
from data_pipelines.errors import MusicVAEError, UsageError


def make_folder(root, count=12):
    """``count`` small 4/4 songs, one 3/4 song, a corrupt and an empty file."""
    for index in range(count):
        write(make_midi(scale_notes(first_pitch=48 + index, bars=8)), root / "songs" / f"s{index}.mid")
    write(make_midi([(60 + i, i, i + 1) for i in range(12)], meter=(3, 4)), root / "waltz.mid")
    (root / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (root / "empty.mid").write_bytes(b"")
    (root / "notes.txt").write_text("ignored")
    return root


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = make_folder(tmp_path_factory.mktemp("midi"))
    out = tmp_path_factory.mktemp("prepared")
    config = load_config("cat-mel_2bar_small", ["data.eval_fraction=0.3", "data.test_fraction=0.3"])
    report = prepare_dataset(config, [str(root)], None, out, workers=2, progress=False)
    return root, out, config, report


def test_report_counts_pieces_windows_and_skips(prepared):
    root, out, config, report = prepared
    saved = json.loads((out / "report.json").read_text())
    assert saved == report
    assert report["pieces_listed"] == 15 and report["pieces_read"] == 13
    assert report["skipped"]["unreadable file"] == 2
    assert report["skipped"]["meter 3/4"] == 1
    # every window is kept (the per-piece cap is a per-epoch draw when training reads them):
    # each 8-bar song has 7 distinct 2-bar windows
    assert sum(report["windows"].values()) == 12 * 7 > 12 * config.data.max_windows_per_piece
    assert json.loads((out / "data_config.json").read_text())["num_steps"] == 32


def test_windows_of_a_piece_stay_in_its_split(prepared):
    import tensorflow as tf

    from data_pipelines.reader import read_windows

    root, out, config, report = prepared
    pieces = json.loads((out / "pieces.json").read_text())
    assert sum(len(ids) for ids in pieces.values()) == 12
    seen = {}
    for split, ids in pieces.items():
        assert ids == sorted(ids)
        assert all(split_for(piece_id, config.data) == split for piece_id in ids)
        records = list(read_windows(out, split, config.data).as_numpy_iterator())
        assert len(records) == report["windows"][split]
        for record in records:
            piece_id = record["piece_id"].decode()
            assert piece_id in ids
            seen.setdefault(piece_id, set()).add(split)
            assert record["tokens"].shape == (32,)
    assert all(len(splits) == 1 for splits in seen.values())
    assert tf.io.gfile.glob(str(out / ".*.tmp")) == []


def test_split_for_is_stable_and_follows_the_fractions():
    config = DataConfig(eval_fraction=0.2, test_fraction=0.1)
    ids = [f"folder/song{i}.mid" for i in range(3000)]
    splits = [split_for(i, config) for i in ids]
    assert splits == [split_for(i, config) for i in ids]
    assert split_for("a/b/song7.mid", config) == split_for("/elsewhere/song7.mid", config)
    assert abs(splits.count("eval") / 3000 - 0.2) < 0.03
    assert abs(splits.count("test") / 3000 - 0.1) < 0.03


def test_rerun_gives_identical_shards_and_removes_stale_ones(prepared, tmp_path):
    root, out, config, report = prepared
    first = {p.name: p.read_bytes() for p in out.glob("*.tfrecord")}
    rerun = tmp_path / "again"
    rerun.mkdir()
    (rerun / "train-00003-of-00009.tfrecord").write_bytes(b"stale")
    (rerun / ".train-00000-of-00001.tfrecord.abc.tmp").write_bytes(b"half")
    prepare_dataset(config, [str(root)], None, rerun, workers=1, progress=False)
    second = {p.name: p.read_bytes() for p in rerun.glob("*.tfrecord")}
    assert first == second
    assert not list(rerun.glob(".*.tmp"))


@pytest.mark.parametrize("content", [b"not midi", b"MThd"])
def test_nothing_usable_writes_the_report_finishes_the_dir_then_fails(tmp_path, content):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.mid").write_bytes(content)
    with pytest.raises(MusicVAEError, match="nothing usable"):
        prepare_dataset(load_config("cat-mel_2bar_small"), [str(tmp_path / "in")], None,
                        tmp_path / "out", workers=1, progress=False)
    assert not (tmp_path / "out" / INCOMPLETE_MARKER).exists()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["skipped"] == {"unreadable file": 1}


def test_cli_prepare_end_to_end_and_one_line_errors(tmp_path, capsys):
    root = make_folder(tmp_path / "midi", count=3)
    out = tmp_path / "out"
    code = main(["prepare", "--config", "cat-mel_2bar_small", "--input", str(root), "--out",
                 str(out), "--workers", "1", "--quiet", "--set", "data.num_bars=1"])
    assert code == 0
    assert "windows train" in capsys.readouterr().out
    assert json.loads((out / "data_config.json").read_text())["num_bars"] == 1

    cases = [
        (["--input", str(tmp_path / "missing")], 2, "input not found"),
        (["--corpus", "music21:nope"], 2, "unknown corpus"),
        (["--corpus", "oneills1850"], 2, "unknown corpus"),
        (["--input", str(root / "notes.txt")], 2, "unsupported file type"),
        (["--input", str(root), "--set", "data.bogus=1"], 2, "unknown data field"),
        (["--input", str(root), "--workers", "0"], 2, "--workers"),
    ]
    for extra, expected, message in cases:
        code = main(["prepare", "--config", "cat-mel_2bar_small", "--out", str(tmp_path / "x"),
                     "--quiet", *extra])
        err = capsys.readouterr().err.strip()
        assert code == expected, extra
        assert message in err and "\n" not in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_info:
        main(["prepare", "--config", "cat-mel_2bar_small", "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2


def test_music21_oneills_tunes_convert_with_sensible_bars():
    from data_pipelines.extraction import extract_melody_spans
    from data_pipelines.sources import list_pieces, load_piece

    refs = list_pieces(None, ["music21:oneills1850"])
    assert len(refs) > 1000
    assert refs[0].piece_id == "music21:oneills1850/0001-0050.abc#1"
    config = DataConfig(num_bars=2)
    bars = {}
    for piece_id in [r.piece_id for r in refs[2:5]]:
        piece = load_piece(piece_id)
        assert len(piece.note_sequence.notes) > 30
        meter = piece.note_sequence.time_signatures[0]
        spans, skips = extract_melody_spans(piece.note_sequence, config)
        if (meter.numerator, meter.denominator) in ((4, 4), (2, 2)):
            bars[piece_id] = sum(len(s.tokens) for s in spans) // 16
        else:
            assert skips[f"meter {meter.numerator}/{meter.denominator}"] >= 1
    assert bars and all(8 <= b <= 64 for b in bars.values())
    with pytest.raises(UsageError):
        list_pieces(None, ["music21:palestrina"])  # installed, but not a supported corpus

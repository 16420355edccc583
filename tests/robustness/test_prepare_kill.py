"""kill -9 of a running ``prepare`` (re-preparing into a finished data dir with another shard
count): its workers die with it, the half-prepared dir is refused, and a rerun succeeds with
every window stored once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_pipelines.data_dir import INCOMPLETE_MARKER, check_prepared_data
from data_pipelines.prepare import prepare_dataset
from malformed_inputs import HANGING_ABC
from midi_factory import make_midi, scale_notes, write
from musicvae_tf.config import load_config
from data_pipelines.errors import MusicVAEError

REPO = Path(__file__).resolve().parents[2]
CONFIG = "cat-mel_2bar_small"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) in alive_pids([int(entry.name)]):
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive_pids(pids: list[int]) -> list[int]:
    """Those of ``pids`` that still run (zombies count as dead)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            alive.append(pid)
    return alive


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def prepare_command(inputs: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "musicvae_tf.cli", "prepare", "--config", CONFIG, "--input",
            str(inputs), "--out", str(out), "--workers", "2", "--quiet", *extra]


def test_kill_9_during_prepare_then_rerun(tmp_path):
    inputs = tmp_path / "in"
    for index in range(6):
        write(make_midi(scale_notes(first_pitch=50 + 2 * index, bars=6)), inputs / f"s{index}.mid")
    out = tmp_path / "data"
    config = load_config(CONFIG, ["data.eval_fraction=0.3", "data.test_fraction=0.3"])
    first = prepare_dataset(config, [str(inputs)], None, out, workers=1, num_shards=3,
                            progress=False)
    assert len(first["shards"]["train"]) == 3
    # two tunes that keep music21 busy for minutes: both workers are stuck when the kill lands
    for name in ("a1.abc", "a2.abc"):
        (inputs / name).write_text(HANGING_ABC)
    sets = ["--set", "data.eval_fraction=0.3", "--set", "data.test_fraction=0.3"]
    running = subprocess.Popen(prepare_command(inputs, out, "--shards", "1", *sets, "--set",
                                               "data.max_seconds_per_piece=300"),
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: len(children(running.pid)) >= 2, 60), "no workers started"
        workers = children(running.pid)
        assert (out / INCOMPLETE_MARKER).exists()
        os.kill(running.pid, signal.SIGKILL)
        running.wait(10)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    try:
        assert wait_for(lambda: not alive_pids(workers), 10), "workers outlived their parent"
    finally:
        for pid in alive_pids(workers):  # never leave orphans behind, even when failing
            os.kill(pid, signal.SIGKILL)
    assert running.stderr.read().decode().find("Traceback") < 0

    with pytest.raises(MusicVAEError, match="did not finish") as refused:
        check_prepared_data(out, config.data, "train")
    assert "\n" not in str(refused.value)
    assert not list(out.glob("*.tfrecord"))  # the older shards went when the rerun started

    rerun = subprocess.run(prepare_command(inputs, out, "--shards", "1", *sets, "--set",
                                           "data.max_seconds_per_piece=1"),
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "Traceback" not in rerun.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["skipped"]["timed out"] == 2
    stored = sorted(p.name for p in out.glob("*.tfrecord"))
    assert stored == sorted(n for names in report["shards"].values() for n in names)
    assert [len(report["shards"][s]) for s in ("train", "eval", "test")] == [
        min(1, report["windows"][s]) for s in ("train", "eval", "test")]
    assert report["windows"] == first["windows"]
    check_prepared_data(out, config.data, "train")
    assert count_records(out) == sum(report["windows"].values())


def count_records(data_dir: Path) -> int:
    """Records in every shard of ``data_dir`` (TFRecord framing, read without TensorFlow)."""
    from data_pipelines.tfrecord_source import record_offsets

    total = 0
    for shard in data_dir.glob("*.tfrecord"):
        offsets, damage = record_offsets(str(shard))
        assert not damage
        total += len(offsets)
    return total

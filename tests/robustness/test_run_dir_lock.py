"""One training per run dir: a second ``train`` exits 1 with one line and the first keeps every
metrics row; a lock left by a kill -9 is taken over and the rerun resumes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from musicvae_tf.training.run_lock import LOCK_FILE, RunDirBusy, run_dir_lock
from training_support import run_cli, start_cli, synthetic_tokens, tiny_config, \
    tiny_settings_file, write_prepared_data

_HOLDER = ("import sys, time; from musicvae_tf.training.run_lock import run_dir_lock\n"
           "with run_dir_lock(sys.argv[1]):\n    print('locked', flush=True); time.sleep(600)")


def test_a_held_lock_names_its_owner_and_a_dead_owners_lock_is_taken_over(tmp_path):
    run_dir = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(run_dir)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunDirBusy, match=rf"in use by another training \(PID {holder.pid}\)"):
            with run_dir_lock(run_dir):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with run_dir_lock(run_dir):  # the kernel dropped the dead holder's lock
        import os

        assert (run_dir / LOCK_FILE).read_text().strip() == str(os.getpid())
        with run_dir_lock(run_dir):  # re-entrant within one process
            pass


def _rows(run_dir) -> list[int]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line)["step"] for line in path.read_text().splitlines() if line.endswith("}")]


def _wait(predicate, process, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        assert process.poll() is None, process.communicate()[1][-3000:]
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_second_train_is_refused_and_a_killed_train_resumes(tmp_path):
    config = tiny_config()
    data = tmp_path / "data"
    write_prepared_data(data, config, {"train": synthetic_tokens(config, 64)})
    settings = tiny_settings_file(tmp_path / "tiny.yaml")
    run_dir = tmp_path / "run"
    command = ["train", "--config", str(settings), "--data", str(data), "--run-dir", str(run_dir),
               "--strategy", "cpu", "--no-progress", "--set", "training.checkpoint_every=20"]

    first = start_cli([*command, "--steps", "1000000"])
    try:
        _wait(lambda: len(_rows(run_dir)) >= 5, first)
        second = run_cli([*command, "--steps", "1000000"], timeout=120)
        assert second.returncode == 1, second.stderr[-3000:]
        err = second.stderr.strip()
        assert "Traceback" not in err and len(err.splitlines()) == 1, err
        assert f"is in use by another training (PID {first.pid})" in err
        seen = len(_rows(run_dir))
        _wait(lambda: len(_rows(run_dir)) > seen + 5, first)  # the first still appends...
        rows = _rows(run_dir)
        assert rows == list(range(1, len(rows) + 1))  # ...to the file it opened, every row kept
        _wait(lambda: list((run_dir / "ckpt").glob("ckpt-*.index")), first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)

    import tensorflow as tf

    last = int(tf.train.latest_checkpoint(str(run_dir / "ckpt")).rsplit("-", 1)[1])
    rerun = run_cli([*command, "--steps", str(last + 5)], timeout=240)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "Traceback" not in rerun.stderr
    assert f"resumed from {run_dir / 'ckpt'}/ckpt-{last} at step {last}" in rerun.stdout
    assert _rows(run_dir) == list(range(1, last + 6))

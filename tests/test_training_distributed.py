"""Distributed training: two logical CPUs under MirroredStrategy match one device exactly, and two
MultiWorkerMirroredStrategy workers on 127.0.0.1 train together (both in subprocesses)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from training_support import start_cli, synthetic_tokens, tiny_config, tiny_settings_file, \
    write_prepared_data

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def mirrored_result():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, str(HERE / "mirrored_equivalence_script.py")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_mirrored_replicas_match_one_device(mirrored_result):
    result = mirrored_result
    assert result["replicas"] == 2
    single, mirrored = result["single"], result["mirrored"]
    assert single["iterations"] == mirrored["iterations"] == 3
    for a, b in zip(single["logs"], mirrored["logs"]):
        for key in ("loss", "reconstruction", "kl_bits", "accuracy", "global_norm"):
            np.testing.assert_allclose(a[key], b[key], rtol=1e-5, err_msg=key)
    # The weights moved, and moved identically.
    assert single["logs"][0]["loss"] != single["logs"][1]["loss"]
    for a, b in zip(single["weights"], mirrored["weights"]):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-4, atol=1e-5)


def test_mirrored_step_all_reduces_the_gradients_once(mirrored_result):
    """One packed all-reduce of all gradients (one collective op per replica), none inside the
    optimiser: Keras would otherwise sum the already summed gradients again."""
    assert mirrored_result["mirrored"]["collectives"] == {"CollectiveReduceV2": 2}


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_multiworker_processes_train_together(tmp_path):
    config = tiny_config()
    data = tmp_path / "data"
    write_prepared_data(data, config, {"train": synthetic_tokens(config, 64)})
    settings = tiny_settings_file(tmp_path / "tiny.yaml")
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    run_dir = tmp_path / "run"
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(start_cli(
            ["train", "--config", str(settings), "--data", str(data), "--run-dir", str(run_dir),
             "--steps", "6", "--strategy", "multiworker", "--no-progress"],
            env={"TF_CONFIG": json.dumps(tf_config)}))
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=240))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, err[-3000:]
        assert "step 6" in out
    # Both workers report the same globally reduced loss.
    losses = [out.split("loss ")[1].split()[0] for out, _ in outputs]
    assert losses[0] == losses[1]
    assert (run_dir / "model.keras").is_file()
    assert sorted(p.name for p in (run_dir / "ckpt").glob("*.index"))[-1] == "ckpt-6.index"
    assert not list(run_dir.glob(".worker-*"))  # the other worker's scratch checkpoints are gone
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 7))

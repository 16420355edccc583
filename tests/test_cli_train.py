"""``musicvae-tf train`` end to end: bad input gives one line, SIGTERM stops cleanly, a SIGKILLed
run resumes from its last checkpoint and finishes at --steps."""

from __future__ import annotations

import json
import re
import signal
import time

import pytest

from musicvae_tf.cli import main
from training_support import run_cli, start_cli, synthetic_tokens, tiny_config, \
    tiny_settings_file, write_prepared_data


@pytest.fixture
def prepared(tmp_path):
    config = tiny_config()
    data = tmp_path / "data"
    write_prepared_data(data, config, {"train": synthetic_tokens(config, 64),
                                       "test": synthetic_tokens(config, 16, seed=1)})
    return data, tiny_settings_file(tmp_path / "tiny.yaml")


def _one_line_error(capsys, argv) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return code, err


@pytest.mark.parametrize("extra, code, words", [
    (["--strategy", "gpu-cluster"], 2, "unknown strategy 'gpu-cluster'"),
    (["--precision", "float8"], 2, "unknown precision 'float8'"),
    (["--set", "training.batch_size"], 2, "--set expects section.key=value"),
    (["--set", "model.nonsense=3"], 2, "--set model.nonsense: unknown model field 'nonsense'"),
    (["--steps", "-1"], 2, "--steps must be >= 0"),
])
def test_bad_arguments_are_one_line_usage_errors(capsys, prepared, tmp_path, extra, code, words):
    data, settings = prepared
    argv = ["train", "--config", str(settings), "--data", str(data),
            "--run-dir", str(tmp_path / "run"), *extra]
    exit_code, err = _one_line_error(capsys, argv)
    assert exit_code == code and err.startswith(f"musicvae-tf train: error: {words}"), err


def test_missing_or_incompatible_data_is_a_one_line_error(capsys, prepared, tmp_path):
    data, settings = prepared
    base = ["train", "--config", str(settings), "--run-dir", str(tmp_path / "run")]
    code, err = _one_line_error(capsys, [*base, "--data", str(tmp_path / "nowhere")])
    assert code == 1 and "data directory not found" in err
    code, err = _one_line_error(capsys, [*base, "--data", str(data), "--set", "data.num_bars=4"])
    assert code == 1 and "incompatible config: num_bars 2 (data) vs 4 (config)" in err
    assert not (tmp_path / "run").exists()


def _wait_for_checkpoint(run_dir, process, newer_than: int = 0, timeout: float = 180) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = [int(p.name[5:-6]) for p in (run_dir / "ckpt").glob("ckpt-*.index")]
        if steps and max(steps) > newer_than:
            return max(steps)
        assert process.poll() is None, process.communicate()[1][-3000:]
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


def test_sigterm_stops_cleanly_and_sigkill_resumes_to_the_target_step(prepared, tmp_path):
    data, settings = prepared
    run_dir = tmp_path / "run"
    command = ["train", "--config", str(settings), "--data", str(data), "--run-dir", str(run_dir),
               "--strategy", "cpu", "--no-progress", "--set", "training.checkpoint_every=20"]

    endless = start_cli([*command, "--steps", "1000000"])
    _wait_for_checkpoint(run_dir, endless)
    endless.send_signal(signal.SIGTERM)
    out, err = endless.communicate(timeout=120)
    assert endless.returncode == 143, err[-3000:]
    assert "stopped early (SIGTERM)" in out
    stopped_at = int(re.search(r"stopped early \(SIGTERM\) at step (\d+)", out).group(1))
    assert (run_dir / "ckpt" / f"ckpt-{stopped_at}.index").is_file()
    assert (run_dir / "model.keras").is_file()

    resumed = start_cli([*command, "--steps", "1000000"])
    killed_after = _wait_for_checkpoint(run_dir, resumed, newer_than=stopped_at)
    resumed.send_signal(signal.SIGKILL)
    resumed.communicate(timeout=60)
    assert killed_after > stopped_at

    # The newest complete checkpoint: TensorFlow writes a checkpoint's files before it names it in
    # the `checkpoint` file, so a kill in between leaves the previous one as the newest.
    import tensorflow as tf

    last_checkpoint = int(tf.train.latest_checkpoint(str(run_dir / "ckpt")).rsplit("-", 1)[1])
    target = last_checkpoint + 7
    final = run_cli([*command, "--steps", str(target)], timeout=240)
    assert final.returncode == 0, final.stderr[-3000:]
    assert f"resumed from {run_dir / 'ckpt'}/ckpt-{last_checkpoint} at step {last_checkpoint}" \
        in final.stdout
    assert last_checkpoint >= stopped_at
    assert re.search(rf": step {target}  loss", final.stdout), final.stdout
    # The CLI's auto choices are named: no GPU here, so the fused LSTM kernel.
    assert re.search(r"precision (float32|mixed_bfloat16) \(auto: ", final.stdout), final.stdout
    assert "LSTM fused (model.lstm_impl auto)" in final.stdout
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, target + 1))
    assert (run_dir / "ckpt" / f"ckpt-{target}.index").is_file()

"""Failed writes (a full disk, a file-size limit, no permission) end in one line, exit 1, and leave
no half-written file behind."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

import pretty_midi
import pytest

from musicvae_tf.cli import main

_CLI = "import sys; from musicvae_tf.cli import main; sys.exit(main())"


def _limit_file_size(limit_bytes: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return apply


@pytest.mark.slow
def test_a_write_that_runs_out_of_room_is_one_line_and_leaves_nothing_partial(tmp_path):
    # RLIMIT_FSIZE makes writes fail like a full disk, without root or a special filesystem.
    out = tmp_path / "samples"
    done = subprocess.run([sys.executable, "-c", _CLI, "sample", "--model", "folk-mel_2bar",
                           "--num-outputs", "3", "--seed", "1", "--no-wav", "--out", str(out)],
                          preexec_fn=_limit_file_size(6000), capture_output=True, text=True,
                          timeout=180, env=dict(os.environ, CUDA_VISIBLE_DEVICES=""))
    err = done.stderr.strip()
    assert done.returncode == 1, err[-3000:]
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("musicvae-tf sample: error: File too large"), err
    leftovers = sorted(p.name for p in out.iterdir())
    assert not [name for name in leftovers if name.startswith(".") or name.endswith(".tmp")]
    for name in leftovers:  # what was written is complete
        if name.endswith(".mid"):
            assert pretty_midi.PrettyMIDI(str(out / name)).instruments


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_output_folder_is_refused_before_any_work(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["sample", "--model", "folk-mel_2bar", "--out", str(locked / "o")]) == 1
    finally:
        locked.chmod(0o700)
    err = capsys.readouterr().err.strip()
    assert "no permission to write" in err and len(err.splitlines()) == 1


def test_an_os_error_during_a_command_is_one_line(capsys, monkeypatch, tmp_path):
    import errno

    from musicvae_tf.cli import stats

    def full_disk(args):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "stats.json"))

    monkeypatch.setattr(stats, "run", full_disk)
    assert main(["stats", "--input", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"musicvae-tf stats: error: No space left on device: {tmp_path / 'stats.json'}"

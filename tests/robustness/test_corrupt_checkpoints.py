"""A damaged checkpoint (flipped bytes, a truncated or missing shard, a broken index or
``checkpoint`` file) is one line naming the file, exit 1, in every command that restores one: the
generation commands (a run dir without ``model.keras`` is read from its newest checkpoint),
``evaluate`` and a resumed ``train``."""

from __future__ import annotations

import shutil

import pytest

from musicvae_tf.cli import main
from training_support import synthetic_tokens, tiny_config, tiny_settings_file, write_prepared_data


def flip_bytes(path):
    data = bytearray(path.read_bytes())
    for index in range(len(data) // 3, len(data), 97):
        data[index] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "flipped shard bytes": lambda ckpt: flip_bytes(next(ckpt.glob("ckpt-*.data-*"))),
    "truncated shard": lambda ckpt: next(ckpt.glob("ckpt-*.data-*")).write_bytes(b"\0" * 50),
    "missing shard": lambda ckpt: next(ckpt.glob("ckpt-*.data-*")).unlink(),
    "flipped index bytes": lambda ckpt: flip_bytes(next(ckpt.glob("ckpt-*.index"))),
    "binary checkpoint file": lambda ckpt: (ckpt / "checkpoint").write_bytes(b"\xff\xfe\0 not text"),
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A prepared data dir, a tiny config file and a run dir trained 5 steps (one checkpoint)."""
    root = tmp_path_factory.mktemp("corrupt")
    config = tiny_config()
    data = root / "data"
    write_prepared_data(data, config, {"train": synthetic_tokens(config, 64),
                                       "test": synthetic_tokens(config, 16, seed=1)})
    settings = tiny_settings_file(root / "tiny.yaml")
    run = root / "run"
    assert main(["train", "--config", str(settings), "--data", str(data), "--run-dir", str(run),
                 "--steps", "5"]) == 0
    (run / "model.keras").unlink()
    return data, run


@pytest.fixture(params=list(DAMAGE))
def damaged(request, trained, tmp_path):
    data, run = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    DAMAGE[request.param](copy / "ckpt")
    return data, copy


def one_line_error(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_every_command_that_restores_it_says_so_in_one_line(capsys, damaged, tmp_path):
    data, run = damaged
    for argv in (["sample", "--model", str(run), "--out", str(tmp_path / "out")],
                 ["evaluate", "--model", str(run), "--data", str(data)],
                 ["train", "--run-dir", str(run), "--data", str(data), "--steps", "10"]):
        err = one_line_error(capsys, argv)
        assert f"error: cannot read checkpoint {run / 'ckpt'}" in err, err
    assert not (tmp_path / "out").exists()


def test_the_undamaged_run_still_samples(capsys, trained, tmp_path):
    data, run = trained
    assert main(["sample", "--model", str(run), "--num-outputs", "1", "--no-wav", "--out", str(tmp_path / "o")]) == 0

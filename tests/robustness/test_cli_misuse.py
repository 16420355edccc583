"""CLI misuse for every subcommand: one line on stderr, no traceback, the documented exit code.

Exit codes: 2 for wrong usage (options, --set, values out of range), 1 for bad input (missing or
unwritable paths, inconsistent run dirs). Cases run in-process through ``main()``; the few that
load a model use the shipped folk models, so no training is needed.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

from midi_factory import make_midi, scale_notes, write
from musicvae_tf.cli import main
from musicvae_tf.pretrained import pretrained_root

USAGE, BAD_INPUT = 2, 1

# (argv, exit code, words the one error line must contain). {tmp} is a scratch folder holding
# tune.mid (a 4-bar melody), afile (a plain file) and adir/ (an empty folder).
CASES = [
    ([], USAGE, "required"),
    (["no-such-command"], USAGE, "invalid choice"),
    (["--bogus", "stats"], USAGE, "unrecognized arguments"),
    # prepare
    (["prepare", "--out", "{tmp}/d"], USAGE, "required"),
    (["prepare", "--config", "cat-mel_2bar_small", "--input", "{tmp}/tune.mid", "--out", "{tmp}/d",
      "--workers", "0"], USAGE, "--workers must be >= 1"),
    (["prepare", "--config", "cat-mel_2bar_small", "--input", "{tmp}/tune.mid", "--out", "{tmp}/d",
      "--set", "dta.num_bars=4"], USAGE, "did you mean data?"),
    (["prepare", "--config", "no-such-config", "--input", "{tmp}/tune.mid", "--out", "{tmp}/d"],
     USAGE, "unknown config"),
    (["prepare", "--config", "cat-mel_2bar_small", "--input", "{tmp}/tune.mid", "--out",
      "{tmp}/afile"], BAD_INPUT, "is a file, not a folder"),
    (["prepare", "--config", "cat-mel_2bar_small", "--input", "{tmp}/tune.mid", "--out",
      "{tmp}/afile/sub"], BAD_INPUT, "is a file, not a folder"),
    # train: every --set mistake is a usage error before any TensorFlow work
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "data.num_bars=abc"], USAGE, "data.num_bars must be a whole number"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "model.encoder_units=32"], USAGE, "model.encoder_units must be a list"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "data=3"], USAGE, "name a field as section.key"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "dta.num_bars=4"], USAGE, "unknown section 'dta' (did you mean data?)"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "training.chekpoint_every=5"], USAGE, "did you mean checkpoint_every?"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "training.checkpoint_every=0"], USAGE, "checkpoint_every must be >= 1"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "training.summary_every=0"], USAGE, "summary_every must be >= 1"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "model.encoder_units=[0]"], USAGE, "must all be >= 1"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "training.seed=-1"], USAGE, "training.seed must be in"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "training.learning_rate=fast"], USAGE, "must be a number"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "data.drop_empty_windows=3"], USAGE, "must be true or false"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--set", "data.num_bars=[2"], USAGE, "not valid YAML"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--steps", "-1"], USAGE, "--steps must be >= 0"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--minutes", "0"], USAGE, "--minutes must be a positive number"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r",
      "--steps", "x"], USAGE, "invalid int value"),
    (["train", "--data", "{tmp}/adir", "--run-dir", "{tmp}/new"], USAGE, "--config is required"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/nowhere", "--run-dir",
      "{tmp}/r"], BAD_INPUT, "not found"),
    (["train", "--config", "cat-mel_2bar_small", "--data", "{tmp}/adir", "--run-dir",
      "{tmp}/afile"], BAD_INPUT, "--run-dir {tmp}/afile is a file"),
    # train-inpainting
    (["train-inpainting", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r", "--set",
      "latent_rnn.max_gp=7"], USAGE, "unknown latent_rnn field"),
    (["train-inpainting", "--data", "{tmp}/adir", "--run-dir", "{tmp}/r", "--measure-steps", "-2"],
     USAGE, "--measure-steps must be >= 0"),
    (["train-inpainting", "--data", "{tmp}/nowhere", "--run-dir", "{tmp}/r"], BAD_INPUT,
     "not found"),
    # evaluate
    (["evaluate", "--model", "folk-mel_2bar", "--data", "{tmp}/adir", "--batch-size", "0"], USAGE,
     "--batch-size must be >= 1"),
    (["evaluate", "--model", "folk-mel_2bar", "--data", "{tmp}/adir", "--seed", "-1"], USAGE,
     "a seed must lie in"),
    (["evaluate", "--model", "{tmp}/nowhere", "--data", "{tmp}/adir"], BAD_INPUT, "model not found"),
    (["evaluate", "--model", "{tmp}/adir", "--data", "{tmp}/adir"], BAD_INPUT, "no config.yaml"),
    # sample
    (["sample", "--model", "folk-mel_2bar"], USAGE, "required: --out"),
    (["sample", "--model", "folk-mel_2bar", "--num-outputs", "0", "--out", "{tmp}/o"], USAGE,
     "expected a positive number"),
    (["sample", "--model", "folk-mel_2bar", "--seed", "-1", "--out", "{tmp}/o"], USAGE,
     "a seed must lie in"),
    (["sample", "--model", "folk-mel_2bar", "--qpm", "0", "--out", "{tmp}/o"], USAGE,
     "a tempo must lie in"),
    (["sample", "--model", "folk-mel_2bar", "--qpm", "3.5", "--out", "{tmp}/o"], USAGE,
     "a tempo must lie in 3.576..1000 qpm"),
    (["sample", "--model", "folk-mel_2bar", "--temperature", "-1", "--out", "{tmp}/o"], USAGE,
     "--temperature must be >= 0"),
    (["sample", "--model", "folk-mel_2bar", "--amount", "2", "--out", "{tmp}/o"], USAGE,
     "--amount needs --attribute"),
    (["sample", "--model", "folk-mel_2bar", "--bar", "2", "--out", "{tmp}/o"], USAGE, "--like"),
    (["sample", "--model", "folk-mel_2bar", "--like", "{tmp}/tune.mid", "--bar", "0", "--out",
      "{tmp}/o"], USAGE, "bars count from 1"),
    (["sample", "--model", "folk-mel_2bar", "--like", "{tmp}/tune.mid", "--similarity", "1.5",
      "--out", "{tmp}/o"], USAGE, "--similarity must lie in [0, 1]"),
    (["sample", "--model", "folk-mel_2bar", "--like", "{tmp}/tune.mid", "--similarity", "0.5",
      "--cosine", "0.5", "--out", "{tmp}/o"], USAGE, "not allowed with argument"),
    (["sample", "--model", "folk-mel_2bar", "--attribute", "loudness", "--out", "{tmp}/o"], USAGE,
     "invalid choice"),
    (["sample", "--model", "{tmp}/nowhere", "--out", "{tmp}/o"], BAD_INPUT, "model not found"),
    (["sample", "--model", "{tmp}/afile", "--out", "{tmp}/o"], BAD_INPUT, "not a .keras model"),
    (["sample", "--model", "folk-mel_2bar", "--out", "{tmp}/afile"], BAD_INPUT, "is a file"),
    (["sample", "--model", "folk-mel_2bar", "--out", "{tmp}/afile/deeper"], BAD_INPUT, "is a file"),
    # interpolate
    (["interpolate", "--model", "folk-mel_2bar", "--input", "{tmp}/tune.mid", "--out", "{tmp}/o"],
     USAGE, "takes two inputs"),
    (["interpolate", "--model", "folk-mel_2bar", "--input", "{tmp}/tune.mid", "{tmp}/tune.mid",
      "{tmp}/tune.mid", "--out", "{tmp}/o"], USAGE, "or four"),
    (["interpolate", "--model", "folk-mel_2bar", "--input", "{tmp}/tune.mid", "{tmp}/tune.mid",
      "--corners", "--out", "{tmp}/o"], USAGE, "--corners goes with --from-split"),
    (["interpolate", "--model", "folk-mel_2bar", "--input", "{tmp}/tune.mid", "{tmp}/tune.mid",
      "--num-outputs", "1", "--out", "{tmp}/o"], USAGE, "at least 2 steps"),
    (["interpolate", "--model", "folk-mel_2bar", "--input", "{tmp}/tune.mid", "{tmp}/tune.mid",
      "--bar", "0", "--out", "{tmp}/o"], USAGE, "bars count from 1"),
    (["interpolate", "--model", "folk-mel_2bar", "--input", "{tmp}/tune.mid", "{tmp}/tune.mid",
      "--bar", "1", "2", "3", "--out", "{tmp}/o"], USAGE, "one per input"),
    (["interpolate", "--model", "folk-mel_2bar", "--input", "{tmp}/tune.mid", "{tmp}/missing.mid",
      "--out", "{tmp}/o"], BAD_INPUT, "input file not found"),
    (["interpolate", "--model", "folk-mel_2bar", "--input", "{tmp}/tune.mid", "{tmp}/tune.mid",
      "--bar", "9", "--out", "{tmp}/o"], BAD_INPUT, "no window starts at bar 9"),
    (["interpolate", "--model", "folk-mel_2bar", "--from-split", "{tmp}/adir", "bogus", "--out",
      "{tmp}/o"], USAGE, "unknown split"),
    # encode
    (["encode", "--model", "folk-mel_2bar", "--input", "{tmp}/tune.mid", "--bar", "-3", "--out",
      "{tmp}/o"], USAGE, "bars count from 1"),
    (["encode", "--model", "folk-mel_2bar", "--input", "{tmp}/missing.mid", "--out", "{tmp}/o"],
     BAD_INPUT, "input file not found"),
    (["encode", "--model", "folk-mel_2bar", "--input", "{tmp}/afile", "--out", "{tmp}/o"],
     BAD_INPUT, ""),
    (["encode", "--model", "folk-mel_2bar", "--input", "{tmp}/tune.mid", "--out", "{tmp}/afile"],
     BAD_INPUT, "is a file"),
    # attributes
    (["attributes", "--model", "folk-mel_2bar", "--data", "{tmp}/adir", "--split", "dev"], USAGE,
     "invalid choice"),
    (["attributes", "--model", "folk-mel_2bar", "--data", "{tmp}/adir", "--out", "{tmp}/afile"],
     BAD_INPUT, "is a file"),
    (["attributes", "--model", "folk-mel_2bar", "--data", "{tmp}/adir", "--check-samples", "-1"],
     USAGE, "argument --check-samples: expected a number >= 0, got -1"),
    # stats
    (["stats"], USAGE, "give at least one of"),
    (["stats", "--input", "{tmp}/tune.mid", "--seed", "x"], USAGE, "expected a whole number"),
    (["stats", "--input", "{tmp}/tune.mid", "--out", "{tmp}/adir"], BAD_INPUT, "is a folder"),
    (["stats", "--data", "{tmp}/adir"], BAD_INPUT, "data_config.json"),
    # inpaint
    (["inpaint", "--model", "folk-inpaint", "--input", "{tmp}/tune.mid", "--bars", "0-3", "--out",
      "{tmp}/o"], USAGE, "bar numbers start at 1"),
    (["inpaint", "--model", "folk-inpaint", "--input", "{tmp}/tune.mid", "--bars", "x", "--out",
      "{tmp}/o"], USAGE, "--bars expects FIRST-LAST"),
    (["inpaint", "--model", "folk-inpaint", "--held-out-from", "{tmp}/adir", "--out", "{tmp}/o"],
     USAGE, "--held-out-from needs --bars"),
    (["inpaint", "--model", "folk-inpaint", "--input", "{tmp}/tune.mid", "--bars", "3-9", "--out",
      "{tmp}/o"], USAGE, "trained on gaps of 2-6 bars"),
    (["inpaint", "--model", "folk-inpaint", "--input", "{tmp}/tune.mid", "--bars", "2-3",
      "--num-outputs", "0", "--out", "{tmp}/o"], USAGE, "expected a positive number"),
    (["inpaint", "--model", "{tmp}/nowhere", "--input", "{tmp}/tune.mid", "--bars", "2-3", "--out",
      "{tmp}/o"], BAD_INPUT, "model not found"),
    (["inpaint", "--model", "folk-mel_2bar", "--input", "{tmp}/tune.mid", "--bars", "2-3", "--out",
      "{tmp}/o"], BAD_INPUT, "too short to inpaint"),
    (["inpaint", "--model", "folk-inpaint", "--input", "{tmp}/missing.mid", "--bars", "2-3",
      "--out", "{tmp}/o"], BAD_INPUT, ""),
    (["inpaint", "--model", "folk-inpaint", "--input", "{tmp}/tune.mid", "--bars", "2-3", "--out",
      "{tmp}/afile"], BAD_INPUT, "is a file"),
    # serve: both fail before any port is bound or model loaded
    (["serve", "--port", "0"], USAGE, "a port must lie in 1..65535"),
    (["serve", "--model", "folk-mel_2bar", "{tmp}/nowhere"], BAD_INPUT, "model not found"),
    # evaluate-inpainting, import-magenta, export-magenta
    (["evaluate-inpainting", "--model", "folk-inpaint", "--data", "{tmp}/adir", "--out",
      "{tmp}/adir"], BAD_INPUT, "is a folder"),
    (["evaluate-inpainting", "--model", "folk-inpaint", "--data", "{tmp}/adir", "--seed", "-5",
      "--out", "{tmp}/r.json"], USAGE, "a seed must lie in"),
    (["import-magenta", "--config", "cat-mel_2bar_small", "--checkpoint", "{tmp}/nowhere",
      "--out", "{tmp}/m", "--set", "model.latent_dimm=3"], USAGE, "did you mean latent_dim?"),
    (["import-magenta", "--config", "cat-mel_2bar_small", "--checkpoint", "{tmp}/nowhere",
      "--out", "{tmp}/afile"], BAD_INPUT, "is a file"),
    (["export-magenta", "--model", "folk-mel_2bar", "--out", "{tmp}/afile"], BAD_INPUT, "is a file"),
    (["export-magenta", "--model", "{tmp}/nowhere", "--out", "{tmp}/e"], BAD_INPUT,
     "model not found"),
]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("misuse")
    write(make_midi(scale_notes(bars=4)), folder / "tune.mid")
    (folder / "afile").write_text("not a folder\n")
    (folder / "adir").mkdir()
    return folder


def run_main(argv) -> tuple[int, str]:
    """Exit code of ``main(argv)``, argparse's SystemExit included."""
    try:
        return main(argv), ""
    except SystemExit as exc:
        return exc.code, ""


def assert_one_line_error(capsys, argv, code, words) -> str:
    exit_code, _ = run_main(argv)
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("musicvae-tf") and ": error: " in err, err
    assert words in err, err
    assert exit_code == code, (exit_code, err)
    return err


@pytest.mark.parametrize("argv, code, words", CASES,
                         ids=[" ".join(c[0][:1] + c[0][-2:]) or "no-args" for c in CASES])
def test_misuse_is_one_line_with_the_documented_exit_code(capsys, scratch, argv, code, words):
    argv = [a.format(tmp=scratch) for a in argv]
    assert_one_line_error(capsys, argv, code, words.format(tmp=scratch))
    assert not (scratch / "o").exists() and not (scratch / "d").exists()


def test_every_subcommand_has_a_misuse_case():
    from musicvae_tf.cli import COMMANDS

    covered = {argv[0] for argv, _, _ in CASES if argv and argv[0] in COMMANDS}
    assert covered == set(COMMANDS)


def test_a_run_dir_whose_config_does_not_fit_its_model_is_refused(capsys, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(pretrained_root() / "folk-mel_2bar", run)
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["model"]["latent_dim"] = 7
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    for argv in (["sample", "--model", str(run), "--out", str(tmp_path / "o")],
                 ["encode", "--model", str(run / "model.keras"), "--input", str(tmp_path / "x.mid"),
                  "--out", str(tmp_path / "o")]):
        err = assert_one_line_error(capsys, argv, BAD_INPUT, "does not match the config.yaml")
        assert "latent_dim 64/7" in err or "latent_dim" in err
    assert not (tmp_path / "o").exists()


def test_verbose_is_accepted_before_and_after_the_command(capsys, scratch):
    for argv in (["--verbose", "stats"], ["stats", "--verbose"]):
        assert_one_line_error(capsys, argv, USAGE, "give at least one of")


@pytest.mark.slow
def test_tensorflow_start_up_lines_are_hidden_unless_verbose(tmp_path):
    import subprocess
    import sys

    command = [sys.executable, "-m", "musicvae_tf.cli", "sample", "--model", "folk-mel_2bar",
               "--num-outputs", "1", "--seed", "1", "--no-wav", "--out", str(tmp_path / "o")]
    quiet = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr

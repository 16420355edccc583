"""SketchNet through the command line: sketches on ``inpaint`` (obeyed, or one-line errors),
``evaluate-inpainting --sketchnet``, and (slow) one ``train`` running all three stages."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from musicvae_tf.cli import main
from sketch_support import TINY_NET, corpus_windows, net_config, vae_config


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    import keras

    from inpainting_support import write_run
    from musicvae_tf.models.sketch_vae.model import build_sketch_vae
    from musicvae_tf.models.sketchnet.model import build_sketchnet

    keras.utils.set_random_seed(0)
    config = net_config()
    root = tmp_path_factory.mktemp("sketch_cli")
    return write_run(build_sketchnet(config, build_sketch_vae(vae_config())), config,
                     root / "run"), root


@pytest.fixture(scope="module")
def piece(run):
    from data_pipelines.tokens import write_midi

    path = run[1] / "piece.mid"
    write_midi(corpus_windows(1)[0], path, net_config().data)
    return path


def _inpaint(run, piece, out, *extra):
    return main(["inpaint", "--model", str(run[0]), "--input", str(piece), "--bars", "7-10",
                 "--out", str(out), "--no-wav", "--seed", "1", *extra])


def test_inpaint_obeys_a_rhythm_sketch(run, piece, tmp_path):
    import pretty_midi

    pattern = "x-x-..x---x.x---"
    assert _inpaint(run, piece, tmp_path, "--rhythm", f"8={pattern}",
                    "--pitches", "8=C5,D5,E5,72,G5") == 0
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "inpainted_01.mid"))
    step = 60.0 / midi.get_tempo_changes()[1][0] / 4
    notes = sorted((round(n.start / step), n.pitch) for n in midi.instruments[0].notes
                   if 7 * 16 <= round(n.start / step) < 8 * 16)
    assert [start - 7 * 16 for start, _ in notes] == [i for i, c in enumerate(pattern) if c == "x"]
    assert [pitch for _, pitch in notes] == [72, 74, 76, 72, 79]


@pytest.mark.parametrize("extra, message", [
    (["--rhythm", "8=x---x---"], "has 8 steps; a bar has 16"),
    (["--rhythm", "8=x---x---x---o---"], "unknown character"),
    (["--rhythm", "12=x---x---x---x---"], "not in the gap"),
    (["--rhythm", "8=x---x---x---x---", "--pitches", "8=C5,D5"], "4 onsets but --pitches gives 2"),
    (["--pitches", "9=C5,H2"], "unknown note 'H2'"),
    (["--pitches", "9=C9"], "outside the model's range"),
    (["--rhythm", "x---x---x---x---"], "expects BAR=VALUE"),
])
def test_malformed_sketches_are_one_line_errors(run, piece, tmp_path, capsys, extra, message):
    assert _inpaint(run, piece, tmp_path, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_sketches_need_a_sketchnet_model(tmp_path, capsys):
    from inpainting_support import tiny_inpaint_config, tiny_inpainting_model, write_run

    config = tiny_inpaint_config(num_bars=16)
    other = write_run(tiny_inpainting_model(config), config, tmp_path / "latent_rnn")
    from data_pipelines.tokens import write_midi

    write_midi(corpus_windows(1)[0], tmp_path / "p.mid", config.data)
    assert main(["inpaint", "--model", str(other), "--input", str(tmp_path / "p.mid"), "--bars",
                 "7-10", "--rhythm", "8=x---x---x---x---", "--out", str(tmp_path / "o")]) == 2
    assert "need a SketchNet model" in capsys.readouterr().err


def _data(root, config):
    from training_support import write_prepared_data

    write_prepared_data(root / "data", config, {"train": corpus_windows(16),
                                                "eval": corpus_windows(4, seed=1),
                                                "test": corpus_windows(8, seed=2)})
    return root / "data"


def test_evaluate_inpainting_adds_the_sketchnet_rows(run, tmp_path):
    from inpainting_support import tiny_inpaint_config, tiny_inpainting_model, write_run

    config = tiny_inpaint_config(num_bars=16)
    latent_rnn = write_run(tiny_inpainting_model(config), config, tmp_path / "latent_rnn")
    data = _data(tmp_path, net_config())
    out = tmp_path / "eval.json"
    assert main(["evaluate-inpainting", "--model", str(latent_rnn), "--data", str(data),
                 "--protocols", "A", "--sketchnet", str(run[0]), "--out", str(out),
                 "--no-progress"]) == 0
    methods = json.loads(out.read_text())["protocols"]["A"]["methods"]
    assert {"latent_rnn", "interpolation", "repeat_last_bar", "sketchnet",
            "sketchnet_true_rhythm", "sketchnet_true_pitches", "sketch_inpainter_only"} <= set(methods)
    assert all(0.0 <= row["hold_rest_accuracy"] <= 1.0 for row in methods.values())
    assert methods["sketchnet"]["gap_tokens"] == 8 * 4 * 16


@pytest.mark.slow
def test_one_train_runs_the_sketch_vae_inpainter_and_connector(tmp_path):
    vae = vae_config("training.num_steps=2")
    (tmp_path / "vae.yaml").write_text(yaml.safe_dump(vae.to_dict(), sort_keys=False))
    data = _data(tmp_path, net_config())
    run_dir = tmp_path / "run"
    sets = [f"--set={item}" for item in TINY_NET + [f"sketchnet.vae_config={tmp_path / 'vae.yaml'}"]]
    assert main(["train", "--config", "sketchnet-demo", "--data", str(data), "--run-dir",
                 str(run_dir), "--no-progress", *sets]) == 0
    for stage in (run_dir / "sketch_vae", run_dir / "inpainter", run_dir):
        assert (stage / "model.keras").is_file()
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert "sketch_given" in rows[-1] and np.isfinite(rows[-1]["loss"])


def test_evaluate_scores_a_sketch_vae_and_a_sketchnet_run(run, tmp_path):
    import keras

    from inpainting_support import write_run
    from musicvae_tf.models.sketch_vae.model import build_sketch_vae

    keras.utils.set_random_seed(1)
    data = _data(tmp_path, net_config())
    vae_run = write_run(build_sketch_vae(vae_config()), vae_config(), tmp_path / "vae")
    assert main(["evaluate", "--model", str(vae_run), "--data", str(data), "--out",
                 str(tmp_path / "vae.json")]) == 0
    vae_result = json.loads((tmp_path / "vae.json").read_text())
    assert vae_result["bars"] == 8 * 16 and 0.0 <= vae_result["greedy_accuracy"] <= 1.0
    assert main(["evaluate", "--model", str(run[0]), "--data", str(data), "--out",
                 str(tmp_path / "net.json")]) == 0
    methods = json.loads((tmp_path / "net.json").read_text())["methods"]
    assert set(methods) == {"sketchnet", "sketchnet_true_rhythm", "sketchnet_true_pitches",
                            "sketch_inpainter_only"}

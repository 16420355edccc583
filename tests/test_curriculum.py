"""Staged training of a hierarchical MusicVAE (``curriculum``): the bar level loaded from a one-bar
MusicVAE, the linear code, config validation, freezing and hand-over between stages, and resuming
after kill -9 in the middle of a stage."""

from __future__ import annotations

import json
import signal
import time

import numpy as np
import pytest

from data_pipelines.errors import MusicVAEError, UsageError
from musicvae_tf.config import load_config
from training_support import (TINY_SETTINGS, run_cli, start_cli, synthetic_tokens,
                              write_prepared_data)

BAR_MODEL = [*TINY_SETTINGS, "data.num_bars=1"]
STAGED = [*TINY_SETTINGS, "model.encoder=hierarchical", "model.encoder_units=[16,8]",
          "model.latent_dim=6", "model.decoder=hierarchical", "model.conductor_units=[8]",
          "model.bar_latent_dim=4", "model.linear_skip=true"]
TWO_STAGES = ("[{name: top, trains: top, steps: STEPS, token_weight: 0, latent_weight: 1}, "
              "{name: joint, steps: 4, latent_weight: 0.1, learning_rate: 0.003}]")


def staged_config(bar_model: str = "", *extra: str, top_steps: int = 6):
    curriculum = [f"curriculum.bar_model={bar_model}",
                  f"curriculum.stages={TWO_STAGES.replace('STEPS', str(top_steps))}"]
    return load_config("demo-mel_2bar", [*STAGED, *(curriculum if bar_model else []), *extra])


@pytest.fixture(scope="module")
def bar_model_file(tmp_path_factory):
    """A one-bar MusicVAE (random weights) saved as ``.keras`` with its ``config.yaml``."""
    from musicvae_tf.models.music_vae.model import build_model
    from musicvae_tf.training.run_files import write_run_config

    folder = tmp_path_factory.mktemp("bar")
    config = load_config("demo-mel_2bar", BAR_MODEL)
    build_model(config).save(folder / "bar.keras")
    write_run_config(config, folder)
    return folder / "bar.keras"


def test_a_one_bar_model_loads_into_the_bar_level_with_equal_outputs(bar_model_file):
    import tensorflow as tf

    from musicvae_tf.models.loading import load_keras_file
    from musicvae_tf.models.music_vae.bar_level import load_bar_level
    from musicvae_tf.models.music_vae.encoder import final_states
    from musicvae_tf.models.music_vae.model import build_model

    bar_model = load_keras_file(bar_model_file)
    config = staged_config()
    model = build_model(config)
    load_bar_level(model, bar_model)
    tokens = synthetic_tokens(config, 3)
    one_hot = tf.one_hot(tokens, config.data.num_classes)
    bars = tf.reshape(one_hot, [-1, config.data.steps_per_bar, config.data.num_classes])
    # Encoder: the bar level's latent of each bar is the bar model's posterior mean.
    latents = model.encoder.bar_latent_layer(final_states(model.encoder.lstm, bars))
    np.testing.assert_allclose(latents, bar_model.encode(bars)[0], atol=1e-5)
    # Decoder: with the conductor's bar latents pinned to c (a zero kernel, c as the bias), every
    # bar decodes as the bar model decodes c. A bar's first input is the previous bar's last
    # token where a one-bar model reads zeros, so those tokens are blanked (all-zero rows).
    c = np.random.default_rng(0).normal(size=(config.data.num_bars, 4)).astype(np.float32)
    skip = model.decoder.latent_skip_layer
    skip.set_weights([np.zeros_like(skip.get_weights()[0]), c.reshape(-1)])
    conductor_out = model.decoder.bar_latent_layer
    conductor_out.set_weights([np.zeros_like(w) for w in conductor_out.get_weights()])
    steps = config.data.steps_per_bar
    last_steps = np.arange(config.data.num_steps) % steps == steps - 1
    targets = one_hot * (1.0 - last_steps[None, :, None])
    logits = model.decode_logits(tf.zeros([3, 6]), targets).numpy()
    for bar in range(config.data.num_bars):
        own = bar_model.decode_logits(np.repeat(c[bar:bar + 1], 3, 0),
                                      targets[:, bar * steps:(bar + 1) * steps]).numpy()
        np.testing.assert_allclose(logits[:, bar * steps:(bar + 1) * steps], own, atol=1e-5)


def test_a_bar_model_of_another_size_is_refused_naming_the_weight(bar_model_file):
    from musicvae_tf.models.loading import load_keras_file
    from musicvae_tf.models.music_vae.bar_level import bar_model_of, load_bar_level
    from musicvae_tf.models.music_vae.model import build_model

    model = build_model(staged_config("", "model.bar_latent_dim=5"))
    with pytest.raises(MusicVAEError, match=r"bar level: music_vae/encoder/bar_latent/kernel is \(32, 5\)") as info:
        load_bar_level(model, load_keras_file(bar_model_file))
    assert "\n" not in str(info.value)
    with pytest.raises(MusicVAEError, match="no\\) one-bar MusicVAE"):
        bar_model_of(model)


@pytest.mark.parametrize("extra, words", [
    (["curriculum.stages=[]"], "curriculum.stages lists no stage"),
    (["curriculum.stages=[{name: a}, {name: a}]"], "curriculum stage names repeat"),
    (["curriculum.stages=[{name: a, trains: bars}]"], "trains must be one of top, all"),
    (["curriculum.stages=[{name: a, steps: 0}]"], "steps must be >= 1"),
    (["curriculum.stages=[{name: a, token_weight: 0}]"], "token_weight or latent_weight must be"),
    (["curriculum.stages=[{name: 'a b'}]"], "name must be letters"),
    (["curriculum.stages=[{name: a, latent_weight: 1}]"], "latent_weight needs curriculum.bar_model"),
    (["curriculum.stages=[{name: a, trains: top}]"], "needs curriculum.bar_model"),
    (["curriculum.stages=[{name: a, speed: 3}]"], "unknown curriculum.stages[0] field(s): speed"),
    (["curriculum.stages=[{name: a, steps: many}]"], "steps must be a whole number"),
    (["curriculum.stages=[{name: a}]", "model.bar_latent_dim=0", "model.linear_skip=false"],
     "a curriculum needs model.decoder hierarchical with model.bar_latent_dim"),
    (["model.linear_skip=true", "model.encoder=flat", "model.encoder_units=[16]"],
     "model.linear_skip needs model.bar_latent_dim and model.encoder hierarchical"),
])
def test_bad_curricula_are_one_line_errors(extra, words):
    with pytest.raises(UsageError) as info:
        load_config("demo-mel_2bar", [*STAGED, *extra])
    assert words in str(info.value) and "\n" not in str(info.value)


def test_the_linear_code_is_white_and_decodes_back():
    from musicvae_tf.models.music_vae.linear_code import whitened_components

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(500, 5)) @ rng.normal(size=(5, 12)) + rng.normal(size=12)
    scale = rng.uniform(0.5, 2.0, size=12)
    encoder, encoder_bias, decoder, decoder_bias, explained = whitened_components(
        vectors, scale, 8)
    codes = vectors @ encoder + encoder_bias
    np.testing.assert_allclose(np.cov(codes[:, :5].T), np.eye(5), atol=1e-6)
    assert np.abs(codes[:, 5:]).max() == 0  # beyond the data's rank: unused
    np.testing.assert_allclose(codes @ decoder + decoder_bias, vectors, atol=1e-6)
    assert explained == pytest.approx(1.0)
    _, _, _, _, partial = whitened_components(vectors, scale, 2)
    assert 0.3 < partial < 1.0


@pytest.fixture
def prepared(tmp_path, bar_model_file):
    config = staged_config()
    data = tmp_path / "data"
    write_prepared_data(data, config, {"train": synthetic_tokens(config, 64),
                                       "eval": synthetic_tokens(config, 16, seed=1)})
    return data


def _weights(layers) -> list[np.ndarray]:
    return [np.array(w) for layer in layers for w in layer.weights]


def test_stages_freeze_the_bar_level_and_hand_over_their_weights(prepared, bar_model_file,
                                                                  tmp_path):
    from musicvae_tf.models.loading import load_keras_file
    from musicvae_tf.models.music_vae.curriculum import initial_model, stage_config
    from musicvae_tf.models.music_vae.family import train

    config = staged_config(str(bar_model_file))
    run_dir = tmp_path / "run"
    assert train(config, prepared, run_dir, strategy_name="cpu", progress=False) == 0
    top_dir = run_dir / "stages" / "0-top"
    bar_model = load_keras_file(bar_model_file)
    top = load_keras_file(top_dir / "model.keras")
    final = load_keras_file(run_dir / "model.keras")

    def bar_level(model):
        return [model.encoder.lstm, *model.decoder.cores()[0]]

    bar_model_level = [bar_model.encoder.lstm, bar_model.decoder.lstm,
                       bar_model.decoder.initial_state_layer, bar_model.decoder.output_layer]
    for mine, theirs in zip(_weights(bar_level(top)), _weights(bar_model_level)):
        np.testing.assert_array_equal(mine, theirs)  # frozen in stage "top"
    assert any(not np.array_equal(a, b) for a, b in
               zip(_weights(bar_level(final)), _weights(bar_level(top))))  # "joint" trains all
    handed_over = initial_model(stage_config(config, config.section("curriculum").stages[1]),
                                top_dir, None)
    for mine, theirs in zip(handed_over.get_weights(), top.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    for folder, stage, steps in ((top_dir, "top", 6), (run_dir, "joint", 4)):
        record = json.loads((folder / "stage.json").read_text())
        assert record == {"stage": stage, "final_step": steps, "stop_reason": "steps"}
        rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
        assert [row["step"] for row in rows] == list(range(1, steps + 1))
        assert (folder / "training_curves.png").is_file()
    assert "reconstruction" not in rows[0] or stage == "joint"


def _staged_settings_file(path, bar_model, top_steps):
    import yaml

    path.write_text(yaml.safe_dump(staged_config(str(bar_model), top_steps=top_steps).to_dict(),
                                   sort_keys=False))
    return path


def test_kill_9_in_the_middle_of_a_stage_resumes_there(prepared, bar_model_file, tmp_path):
    run_dir = tmp_path / "run"
    top_dir = run_dir / "stages" / "0-top"
    command = ["train", "--data", str(prepared), "--run-dir", str(run_dir), "--strategy", "cpu",
               "--no-progress"]
    endless = start_cli([*command, "--config", str(_staged_settings_file(
        tmp_path / "endless.yaml", bar_model_file, 1_000_000))])
    deadline = time.monotonic() + 180
    while not list((top_dir / "ckpt").glob("ckpt-*.index")):
        assert endless.poll() is None and time.monotonic() < deadline, endless.communicate()[1]
        time.sleep(0.05)
    endless.send_signal(signal.SIGKILL)
    endless.communicate(timeout=60)
    assert not (top_dir / "stage.json").exists()

    import tensorflow as tf

    last = int(tf.train.latest_checkpoint(str(top_dir / "ckpt")).rsplit("-", 1)[1])
    # The stage still training loads from its checkpoint (its bar level from the bar model).
    from musicvae_tf.models.loading import load_keras_file, load_run_model

    partial, _, source = load_run_model(top_dir)
    assert source.endswith(f"ckpt-{last}")
    np.testing.assert_array_equal(partial.decoder.lstm.weights[0],
                                  load_keras_file(bar_model_file).decoder.lstm.weights[0])
    final = run_cli([*command, "--config", str(_staged_settings_file(
        tmp_path / "short.yaml", bar_model_file, last + 3))], timeout=300)
    assert final.returncode == 0, final.stderr[-3000:]
    assert f"resumed from {top_dir / 'ckpt'}/ckpt-{last} at step {last}" in final.stdout
    assert "linear code" not in final.stdout  # a resumed stage keeps its weights
    assert "stage 2/2 joint" in final.stdout and (run_dir / "model.keras").is_file()
    rows = [json.loads(line) for line in (top_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, last + 4))


def test_a_staged_model_is_refused_by_the_magenta_export_in_one_line():
    from musicvae_tf.models.music_vae.magenta_export import magenta_arrays
    from musicvae_tf.models.music_vae.model import build_model

    with pytest.raises(MusicVAEError, match="bar_latent_dim .* no Magenta equivalent") as info:
        magenta_arrays(build_model(staged_config()))
    assert "\n" not in str(info.value)

"""The studio's HTTP API (``musicvae-tf serve``) with Starlette's test client over the shipped models:
the same results and the same one-line errors as the CLI, upload limits, concurrent requests."""

from __future__ import annotations

import asyncio
import io
import re
import time

import numpy as np
import pretty_midi
import pytest
from starlette.testclient import TestClient

from musicvae_tf.cli import main
from musicvae_tf.studio.app import create_app
from musicvae_tf.studio.service import HELD_OUT_TUNES
from studio_support import melody_file, shipped_studio

TUNE_A, TUNE_B, TUNE_INPAINT = HELD_OUT_TUNES[:3]


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(shipped_studio()))


@pytest.fixture()
def tunes(tmp_path):
    return melody_file(tmp_path / "a.mid"), melody_file(tmp_path / "b.mid", first_pitch=67)


def cli_error(capsys, argv) -> str:
    """The message of the CLI's one error line (after "error: ", without argparse's "(see --help)")."""
    try:
        assert main(argv) != 0
    except SystemExit as exc:  # argparse's own errors
        assert exc.code == 2
    message = capsys.readouterr().err.strip().split(": error: ", 1)[1]
    return re.sub(r" \(see musicvae-tf [a-z-]+ --help\)$", "", message)


def test_models_lists_the_shipped_models_and_held_out_tunes(client):
    info = client.get("/api/models").json()
    models = {m["name"]: m for m in info["models"]}
    assert set(models) == {"folk-mel_2bar", "folk-hierdec-mel_16bar", "folk-inpaint"}
    assert models["folk-inpaint"]["inpaint_method"] == "latent RNN" and not models["folk-inpaint"]["can_sample"]
    assert models["folk-hierdec-mel_16bar"]["inpaint_method"] == "latent search"
    assert info["tunes"] == list(HELD_OUT_TUNES)
    assert client.get("/").text.startswith("<!doctype html>")
    assert "drawRoll" in client.get("/static/studio.js").text


def test_held_out_tunes_are_in_the_test_split():
    from data_pipelines.splits import split_for

    config = shipped_studio().models["folk-mel_2bar"].data_config
    assert all(split_for(tune, config) == "test" for tune in HELD_OUT_TUNES)


def test_sample_gives_the_cli_melodies_for_the_same_seed(client, tmp_path):
    answer = client.post("/api/sample", data={"model": "folk-mel_2bar", "count": "2", "seed": "7",
                                              "temperature": "0.5"}).json()
    assert answer["seed"] == 7 and len(answer["results"]) == 2
    first = answer["results"][0]
    assert first["num_steps"] == 32 and first["lanes"][0]["notes"]
    assert main(["sample", "--model", "folk-mel_2bar", "--num-outputs", "2", "--seed", "7", "--no-wav",
                 "--out", str(tmp_path / "cli")]) == 0
    for index, result in enumerate(answer["results"]):
        midi = client.post("/api/midi", json={"model": "folk-mel_2bar", "tokens": result["tokens"], "qpm": 120})
        assert midi.status_code == 200 and midi.headers["content-type"] == "audio/midi"
        ours = pretty_midi.PrettyMIDI(io.BytesIO(midi.content)).instruments[0].notes
        cli = pretty_midi.PrettyMIDI(str(tmp_path / "cli" / f"sample_{index:02d}.mid")).instruments[0].notes
        assert [(n.pitch, n.start, n.end) for n in ours] == [(n.pitch, n.start, n.end) for n in cli]


def test_midi_download_follows_the_tempo_and_refuses_foreign_tokens(client):
    tokens = client.post("/api/sample", data={"model": "folk-mel_2bar", "count": "1", "seed": "1"}) \
        .json()["results"][0]["tokens"]
    midi = pretty_midi.PrettyMIDI(io.BytesIO(client.post(
        "/api/midi", json={"model": "folk-mel_2bar", "tokens": tokens, "qpm": 60}).content))
    assert midi.get_tempo_changes()[1][0] == pytest.approx(60.0, rel=1e-4)
    for payload, words in [({"model": "folk-mel_2bar", "tokens": [999] * 32, "qpm": 120}, "vocabulary"),
                           ({"model": "folk-mel_2bar", "tokens": [1, 2, 3], "qpm": 120}, "shape"),
                           ({"model": "folk-mel_2bar", "tokens": tokens, "qpm": 0}, "a tempo must lie in"),
                           ({"model": "nope", "tokens": tokens}, "unknown model")]:
        answer = client.post("/api/midi", json=payload)
        assert answer.status_code == 400 and words in answer.json()["error"]


def test_interpolate_two_uploads(client, tunes):
    a, b = tunes
    answer = client.post("/api/interpolate", data={"model": "folk-mel_2bar", "steps": "4", "seed": "2"},
                         files={"a": ("a.mid", a.read_bytes()), "b": ("b.mid", b.read_bytes())})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert [r["title"] for r in result["inputs"]] == ["input A: a.mid, bar 1", "input B: b.mid, bar 1"]
    assert len(result["results"]) == 4 and result["results"][0]["title"].startswith("step 1/4 (slerp")
    model = shipped_studio().models["folk-mel_2bar"].trained
    expected = model.interpolate_tokens(str(a), str(b), 4, "slerp", 0.5, seed=2).tokens
    assert np.array_equal([r["tokens"] for r in result["results"]], expected)


def test_interpolate_two_held_out_tunes_with_the_16_bar_model(client):
    answer = client.post("/api/interpolate", data={"model": "folk-hierdec-mel_16bar", "steps": "2", "seed": "1",
                                                   "a_tune": TUNE_A, "b_tune": TUNE_B, "method": "lerp"})
    assert answer.status_code == 200, answer.text
    assert [r["num_steps"] for r in answer.json()["results"]] == [256] * 2


def test_interpolate_from_a_chosen_bar(client, capsys, tmp_path):
    data = {"model": "folk-mel_2bar", "steps": "2", "a_tune": TUNE_A, "b_tune": TUNE_B}
    answer = client.post("/api/interpolate", data={**data, "a_bar": "2", "b_bar": "3"}).json()
    assert [r["title"] for r in answer["inputs"]] == [f"input A: {TUNE_A}, bar 2", f"input B: {TUNE_B}, bar 3"]
    expected = cli_error(capsys, ["interpolate", "--model", "folk-mel_2bar", "--input-piece", TUNE_A, TUNE_B,
                                  "--bar", "0", "--out", str(tmp_path / "out")])
    assert client.post("/api/interpolate", data={**data, "a_bar": "0"}).json()["error"] == expected


def test_piece_and_inpaint_with_the_latent_rnn(client, tunes):
    from musicvae_tf.models.inpainting.inpaint import inpaint_piece
    from musicvae_tf.models.inpainting.piece import read_piece

    upload = {"file": ("tune.mid", tunes[0].read_bytes())}
    piece = client.post("/api/piece", data={"model": "folk-inpaint"}, files=upload).json()
    assert piece["num_bars"] == 16 and piece["piece"]["num_steps"] == 256
    answer = client.post("/api/inpaint", data={"model": "folk-inpaint", "bars": "7-10", "count": "2", "seed": "1"},
                         files=upload)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["gap"] == [7, 10] and [r["highlight_bars"] for r in result["results"]] == [[6, 7, 8, 9]] * 2
    studio_model = shipped_studio().models["folk-inpaint"]
    expected = inpaint_piece(studio_model.inpainter, read_piece(tunes[0], studio_model.data_config), 6, 4, 2, 0.5, 1)
    assert np.array_equal([r["tokens"] for r in result["results"]], expected)
    outside = np.r_[0:6 * 16, 10 * 16:256]
    assert np.array_equal(np.asarray(result["results"][0]["tokens"])[outside],
                          np.asarray(piece["piece"]["tokens"])[outside])
    tune = client.post("/api/piece", data={"model": "folk-inpaint", "tune": TUNE_INPAINT}).json()
    assert tune["num_bars"] >= 16


def test_bad_uploads_give_the_cli_message(client, capsys, tmp_path, monkeypatch, tunes):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.mid").write_bytes(b"MThd this is not MIDI")
    (tmp_path / "empty.mid").write_bytes(b"")
    melody_file(tmp_path / "waltz.mid", meter=(3, 4), bars=8)
    melody_file(tmp_path / "short.mid", bars=4)
    good = ("a.mid", tunes[0].read_bytes())
    for name, model in [("bad.mid", "folk-mel_2bar"), ("empty.mid", "folk-mel_2bar"),
                        ("waltz.mid", "folk-mel_2bar"), ("short.mid", "folk-hierdec-mel_16bar")]:
        expected = cli_error(capsys, ["interpolate", "--model", model, "--input", name, str(tunes[0]),
                                      "--out", str(tmp_path / "out")])
        answer = client.post("/api/interpolate", data={"model": model},
                             files={"a": (name, (tmp_path / name).read_bytes()), "b": good})
        assert answer.status_code == 400
        assert answer.json()["error"] == expected
    expected = cli_error(capsys, ["inpaint", "--model", "folk-inpaint", "--input", "waltz.mid", "--bars", "3-4",
                                  "--out", str(tmp_path / "out")])
    answer = client.post("/api/inpaint", data={"model": "folk-inpaint", "bars": "3-4"},
                         files={"file": ("waltz.mid", (tmp_path / "waltz.mid").read_bytes())})
    assert answer.json()["error"] == expected


def test_client_names_never_reach_the_filesystem(client, tunes):
    answer = client.post("/api/interpolate", data={"model": "folk-mel_2bar", "steps": "2"},
                         files={"a": ("../../etc/passwd", tunes[0].read_bytes()), "b": ("b.mid", b"junk")})
    assert answer.json()["error"].startswith("b.mid: not a readable MIDI file")
    ok = client.post("/api/interpolate", data={"model": "folk-mel_2bar", "steps": "2"},
                     files={"a": ("../../etc/passwd", tunes[0].read_bytes()), "b": ("b.mid", tunes[1].read_bytes())})
    assert ok.json()["inputs"][0]["title"] == "input A: passwd, bar 1"
    for tune in ("/etc/hostname", str(tunes[0]), "music21:oneills1850/0001-0050.abc#1"):
        answer = client.post("/api/piece", data={"model": "folk-inpaint", "tune": tune})
        assert answer.status_code == 400 and answer.json()["error"].startswith("unknown tune")


def test_bad_fields_give_the_cli_message(client, capsys, tmp_path):
    out = ["--out", str(tmp_path / "out")]
    cases = [
        ({"model": "folk-mel_2bar", "temperature": "-1"},
         ["sample", "--model", "folk-mel_2bar", "--temperature", "-1", *out]),
        ({"model": "folk-mel_2bar", "seed": "-3"}, None),
        ({"model": "no-such-model"}, None),
        ({"model": "folk-inpaint"}, None),
        ({"model": "folk-mel_2bar", "count": "99"}, None),
        ({"model": "folk-mel_2bar", "count": "two"}, None),
    ]
    answers = [client.post("/api/sample", data=data) for data, _ in cases]
    assert all(a.status_code == 400 for a in answers)
    errors = [a.json()["error"] for a in answers]
    assert errors[0] == cli_error(capsys, cases[0][1])
    assert errors[1] == "argument --seed: a seed must lie in 0..2147483646, got -3"
    assert errors[2].startswith("unknown model 'no-such-model'")
    assert errors[3].startswith("folk-inpaint cannot sample")
    assert errors[4] == "count must lie in 1..16 here, got 99"
    assert errors[5] == "argument --count: expected a whole number, got 'two'"
    piece = {"model": "folk-inpaint", "tune": TUNE_INPAINT}
    for bars, argv_bars in [("x", "x"), ("2-12", "2-12"), ("1-3", "1-3")]:
        expected = cli_error(capsys, ["inpaint", "--model", "folk-inpaint", "--input-piece", TUNE_INPAINT,
                                      "--bars", argv_bars, *out])
        answer = client.post("/api/inpaint", data={**piece, "bars": bars})
        assert answer.status_code == 400 and answer.json()["error"] == expected
    missing = client.post("/api/interpolate", data={"model": "folk-mel_2bar", "a_tune": TUNE_A})
    assert missing.json()["error"] == "give a MIDI file or a held-out tune for b"


def test_oversize_uploads_are_refused_with_413(tunes):
    small = TestClient(create_app(shipped_studio(), max_upload_bytes=4096))
    big = b"MThd" + b"\0" * 5000
    answer = small.post("/api/piece", data={"model": "folk-inpaint"}, files={"file": ("big.mid", big)})
    assert answer.status_code == 413 and answer.json()["error"] == "big.mid: larger than the upload limit of 4 KiB"
    whole = small.post("/api/piece", data={"model": "folk-inpaint"}, files={"file": ("big.mid", big * 20)})
    assert whole.status_code == 413 and whole.json()["error"].startswith("request too large")

    def chunks():  # no Content-Length: the body is counted as it arrives
        for _ in range(100):
            yield b"x" * 1024

    chunked = small.post("/api/midi", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert small.post("/api/piece", data={"model": "folk-inpaint"},
                      files={"file": ("a.mid", tunes[0].read_bytes())}).status_code == 200


def test_concurrent_requests_get_their_own_results_and_do_not_block_the_server():
    import httpx2

    app = create_app(shipped_studio())
    requests = [("/api/sample", {"model": m, "count": "2", "seed": str(seed)})
                for m in ("folk-mel_2bar", "folk-hierdec-mel_16bar") for seed in (1, 2)]
    requests += [("/api/inpaint", {"model": "folk-inpaint", "tune": TUNE_INPAINT, "bars": "5-6", "seed": str(seed),
                                   "count": "1"}) for seed in (1, 2)]

    async def run():
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://studio") as http:
            finished = {}

            async def post(index, path, data, record=True):
                answer = await http.post(path, data=data)
                if record:
                    finished[index] = time.monotonic()
                return answer.json()

            async def models():
                await asyncio.sleep(0.2)
                await http.get("/api/models")
                finished["models"] = time.monotonic()

            together = await asyncio.gather(models(), *(post(i, p, d) for i, (p, d) in enumerate(requests)))
            alone = [await post(i, p, d, record=False) for i, (p, d) in enumerate(requests)]
            return together[1:], alone, finished

    together, alone, finished = asyncio.run(run())
    for mixed, single in zip(together, alone):
        assert mixed["seed"] == single["seed"]
        assert [r["tokens"] for r in mixed["results"]] == [r["tokens"] for r in single["results"]]
    assert len({str(r["results"][0]["tokens"]) for r in together}) == len(requests)
    # The quick request was answered while the model calls were still running in worker threads.
    assert sum(finished["models"] < t for k, t in finished.items() if k != "models") >= 1


def test_serve_refuses_a_busy_port_and_a_missing_model_in_one_line(capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        message = cli_error(capsys, ["serve", "--model", "folk-mel_2bar", "--port", str(port)])
    assert message.startswith(f"cannot listen on 127.0.0.1:{port}")
    assert cli_error(capsys, ["serve", "--model", "no-such-model"]).startswith("model not found: no-such-model")

"""The studio page in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright
against a live ``uvicorn`` server over the shipped models. Sample and see piano rolls drawn (canvas
pixels), play, interpolate two uploaded MIDI files, inpaint selected bars, download a MIDI file.

``STUDIO_SCREENSHOT=docs/images/studio.png`` writes the README's screenshot.
"""

from __future__ import annotations

import os
from pathlib import Path

import pretty_midi
import pytest

from studio_support import melody_file, served, shipped_studio

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=(
    "no Chromium at /usr/bin/chromium: the studio's browser test needs Debian's chromium package "
    "(apt-get install chromium; .ci/run installs it)"))

NOTE_COLOUR = (11, 107, 203)  # the first lane's notes (studio.js LANE_COLOURS[0])
GAP_COLOUR = (251, 231, 186)  # the inpainted-bar shading over the roll's background

# Counts pixels of one colour in a canvas, per horizontal fraction [from, to).
COUNT_PIXELS = """([canvas, rgb, from, to]) => {
  const {width, height} = canvas;
  const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  let count = 0;
  for (let y = 0; y < height; y += 1) {
    for (let x = Math.floor(from * width); x < Math.floor(to * width); x += 1) {
      const i = 4 * (y * width + x);
      if (Math.abs(data[i] - rgb[0]) <= 3 && Math.abs(data[i + 1] - rgb[1]) <= 3
          && Math.abs(data[i + 2] - rgb[2]) <= 3) count += 1;
    }
  }
  return count;
}"""


@pytest.fixture(scope="module")
def server():
    from musicvae_tf.studio.app import create_app

    app = create_app(shipped_studio(), allowed_hosts=["127.0.0.1", "localhost"])
    with served(app) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--autoplay-policy=no-user-gesture-required", "--mute-audio"])
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server)
    page.wait_for_selector("body[data-ready='1']")
    yield page
    context.close()
    assert not errors, errors


def pixels(page, canvas, rgb, start=0.0, end=1.0) -> int:
    return page.evaluate(COUNT_PIXELS, [canvas.element_handle(), list(rgb), start, end])


def idle(page) -> None:
    page.wait_for_selector("body[data-busy='0']")


def test_sample_draws_piano_rolls_plays_and_downloads_midi(page):
    page.select_option("#sample-model", "folk-mel_2bar")
    page.fill("#sample-count", "3")
    page.fill("#sample-seed", "1")
    page.click("#sample-go")
    cards = page.locator("#sample-results .card")
    cards.nth(2).wait_for()
    idle(page)
    assert cards.count() == 3
    for index in range(3):
        canvas = cards.nth(index).locator("canvas")
        assert int(canvas.get_attribute("data-notes")) > 0
        assert pixels(page, canvas, NOTE_COLOUR) > 50
    assert int(page.get_attribute("body", "data-rolls-drawn")) >= 3

    cards.nth(0).locator("button.play").click()
    page.wait_for_selector("body[data-playing='1']")
    notes = int(cards.nth(0).locator("canvas").get_attribute("data-notes"))
    assert page.evaluate("window.studio.scheduledNotes") == notes
    page.click("#stop")
    page.wait_for_selector("body[data-playing='0']")

    page.fill("#tempo", "90")
    page.dispatch_event("#tempo", "input")
    with page.expect_download() as download:
        cards.nth(0).locator("button.download").click()
    assert download.value.suggested_filename == "sample_01.mid"
    midi = pretty_midi.PrettyMIDI(download.value.path())
    assert midi.instruments[0].notes and midi.get_tempo_changes()[1][0] == pytest.approx(90.0, rel=1e-4)


def test_interpolate_held_out_tunes_then_two_uploaded_files(page, tmp_path):
    page.click("button[data-tab='interpolate']")
    page.select_option("#interp-model", "folk-mel_2bar")
    page.fill("#interp-steps", "6")
    page.fill("#interp-seed", "1")
    page.fill("#interp-a-bar", "2")  # bar 1 of these tunes is a pickup
    page.fill("#interp-b-bar", "2")
    page.click("#interp-go")  # the two held-out tunes the tab starts with
    grid = page.locator("#interp-grid .card")
    grid.nth(7).wait_for()
    idle(page)
    assert grid.nth(0).locator("h3").inner_text().startswith("input A: music21:oneills1850/")
    page.eval_on_selector("#interp-slider", "s => { s.value = '2'; s.dispatchEvent(new Event('input')); }")
    shot = Path(os.environ.get("STUDIO_SCREENSHOT") or tmp_path / "studio.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    a = melody_file(tmp_path / "first.mid", bars=2)
    b = melody_file(tmp_path / "second.mid", first_pitch=69, bars=2)
    page.fill("#interp-a-bar", "")
    page.fill("#interp-b-bar", "")
    page.set_input_files("#interp-a-file", str(a))
    page.set_input_files("#interp-b-file", str(b))
    assert page.input_value("#interp-a-tune") == "" and page.input_value("#interp-b-tune") == ""
    page.fill("#interp-steps", "5")
    page.fill("#interp-seed", "2")
    page.click("#interp-go")
    page.wait_for_function("document.querySelectorAll('#interp-grid .card').length === 7")  # A, 5 steps, B
    idle(page)
    assert grid.nth(0).locator("h3").inner_text() == "input A: first.mid, bar 1"
    assert all(pixels(page, grid.nth(i).locator("canvas"), NOTE_COLOUR) > 0 for i in range(7))
    page.eval_on_selector("#interp-slider", "s => { s.value = '3'; s.dispatchEvent(new Event('input')); }")
    assert page.inner_text("#interp-focus h3").startswith("step 4/5")
    assert "selected" in grid.nth(4).get_attribute("class")


def test_inpaint_selected_bars_and_see_them_shaded(page, tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not a MIDI file")
    page.click("button[data-tab='inpaint']")
    page.wait_for_selector("#inpaint-piece-card")  # the first held-out tune, shown on opening
    idle(page)
    page.set_input_files("#inpaint-file", str(bad))
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error").startswith("bad.mid: not a readable MIDI file")

    page.set_input_files("#inpaint-file", str(melody_file(tmp_path / "tune.mid")))
    page.wait_for_function("document.querySelector('#inpaint-piece-card h3').textContent.startsWith('tune.mid')")
    idle(page)
    assert page.is_hidden("#error")
    canvas = page.locator("#inpaint-piece-card canvas")
    box = canvas.bounding_box()
    bar = box["width"] / 16
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 6.5 * bar, y)
    page.mouse.down()
    page.mouse.move(box["x"] + 8 * bar, y)
    page.mouse.move(box["x"] + 9.5 * bar, y)
    page.mouse.up()
    assert page.input_value("#inpaint-bars") == "7-10"
    page.fill("#inpaint-count", "2")
    page.fill("#inpaint-seed", "1")
    page.click("#inpaint-go")
    results = page.locator("#inpaint-results .card")
    results.nth(1).wait_for()
    idle(page)
    for index in range(2):
        filled = results.nth(index).locator("canvas")
        assert "bars 7-10" in results.nth(index).locator("h3").inner_text()
        assert pixels(page, filled, GAP_COLOUR, 6 / 16 + 0.01, 10 / 16 - 0.01) > 1000
        assert pixels(page, filled, GAP_COLOUR, 0, 6 / 16 - 0.01) == 0
        assert pixels(page, filled, NOTE_COLOUR) > 0

// MusicVAE studio: talks to the JSON API of `musicvae-tf serve`, draws piano rolls in canvases,
// plays them with Web Audio and downloads them as MIDI. No dependencies, works offline.
"use strict";

const studio = {
  info: null,        // /api/models
  qpm: 120,          // playback and download tempo
  audio: null,       // AudioContext, made on the first Play (a user gesture)
  playing: null,     // {master, start, secondsPerStep, card, frame}
  scheduledNotes: 0, // notes of the last Play (the browser test reads it)
  busy: 0,          // requests under way (body[data-busy])
  progressTimer: null,
  interpolation: null, // {result, cards} of the last interpolation
  piece: null,       // inpaint: {model, roll, num_bars}
  selection: null,   // inpaint: [first, last] bars, 0-based
};
window.studio = studio;

const $ = (selector, root = document) => root.querySelector(selector);
const LANE_COLOURS = ["#0b6bcb", "#c2410c", "#15803d", "#7e22ce"];

// ------------------------------------------------------------------------------ requests

async function request(path, body, what) {
  clearError();
  startProgress(what);
  try {
    const json = !(body instanceof FormData);
    const response = await fetch(path, {
      method: "POST",
      body: json ? JSON.stringify(body) : body,
      headers: json ? { "Content-Type": "application/json" } : {},
    });
    const type = response.headers.get("content-type") || "";
    if (!response.ok) {
      const message = type.includes("json") ? (await response.json()).error : `${response.status} ${response.statusText}`;
      throw new Error(message);
    }
    return type.includes("json") ? await response.json() : await response.blob();
  } finally {
    endProgress();
  }
}

function startProgress(what) {
  studio.busy += 1;
  document.body.dataset.busy = String(studio.busy);
  const started = performance.now();
  const status = $("#status");
  status.hidden = false;
  const tick = () => { $("#status-text").textContent = `${what}… ${((performance.now() - started) / 1000).toFixed(1)} s`; };
  tick();
  clearInterval(studio.progressTimer);
  studio.progressTimer = setInterval(tick, 100);
  document.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; });
}

function endProgress() {
  studio.busy -= 1;
  document.body.dataset.busy = String(studio.busy);
  if (studio.busy === 0) {
    clearInterval(studio.progressTimer);
    $("#status").hidden = true;
    document.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = false; });
  }
}

function showError(error) {
  const box = $("#error");
  box.textContent = error.message || String(error);
  box.hidden = false;
}

function clearError() {
  $("#error").hidden = true;
  $("#error").textContent = "";
}

// ------------------------------------------------------------------------------ piano rolls

// Draw `roll` (tokens, lanes of [pitch, start, end] notes) into `canvas`; `marks` may hold
// `selection` ([first, last] bars) and `playhead` (a step).
function drawRoll(canvas, roll, marks = {}) {
  const ctx = canvas.getContext("2d");
  const width = canvas.width;
  const height = canvas.height;
  const stepWidth = width / roll.num_steps;
  const barWidth = stepWidth * roll.steps_per_bar;
  ctx.fillStyle = "#fbfbfa";
  ctx.fillRect(0, 0, width, height);
  for (const bar of roll.highlight_bars) {
    ctx.fillStyle = "rgba(250, 180, 20, 0.28)";
    ctx.fillRect(bar * barWidth, 0, barWidth, height);
  }
  if (marks.selection) {
    const [first, last] = marks.selection;
    ctx.fillStyle = "rgba(11, 107, 203, 0.18)";
    ctx.fillRect(first * barWidth, 0, (last - first + 1) * barWidth, height);
  }
  for (let step = 0; step <= roll.num_steps; step += roll.steps_per_quarter) {
    const bar = step % roll.steps_per_bar === 0;
    ctx.fillStyle = bar ? "#9aa4ae" : "#e4e7eb";
    ctx.fillRect(Math.min(Math.round(step * stepWidth), width - 1), 0, 1, height);
  }
  ctx.fillStyle = "#6b7280";
  ctx.font = "10px system-ui, sans-serif";
  for (let bar = 0; bar < roll.num_steps / roll.steps_per_bar; bar += 1) {
    ctx.fillText(String(bar + 1), bar * barWidth + 3, 11);
  }
  const laneHeight = (height - 14) / roll.lanes.length;
  let notes = 0;
  roll.lanes.forEach((lane, index) => {
    const top = 14 + index * laneHeight;
    let low; let high;
    if (lane.rows) {
      low = 0; high = lane.rows.length - 1;
    } else {
      const pitches = lane.notes.map((n) => n[0]);
      low = pitches.length ? Math.min(...pitches) - 2 : 58;
      high = pitches.length ? Math.max(...pitches) + 2 : 74;
    }
    const rowHeight = laneHeight / (high - low + 1);
    ctx.fillStyle = LANE_COLOURS[index % LANE_COLOURS.length];
    for (const [pitch, start, end] of lane.notes) {
      const y = top + (high - pitch) * rowHeight;
      ctx.fillRect(start * stepWidth + 0.5, y, Math.max(1, (end - start) * stepWidth - 1), Math.max(2, rowHeight - 1));
      notes += 1;
    }
    for (const [step, text] of lane.labels || []) {
      ctx.fillStyle = "#374151";
      ctx.fillText(text, step * stepWidth + 2, top + 10);
    }
  });
  if (marks.playhead !== undefined) {
    ctx.fillStyle = "#dc2626";
    ctx.fillRect(marks.playhead * stepWidth, 0, 2, height);
  }
  canvas.dataset.notes = String(notes);
  document.body.dataset.rollsDrawn = String(Number(document.body.dataset.rollsDrawn) + 1);
}

function canvasFor(roll, size = {}) {
  const canvas = document.createElement("canvas");
  canvas.width = size.width || Math.max(480, Math.min(1400, roll.num_steps * 5));
  canvas.height = size.height || 150;
  return canvas;
}

// A result card: title, piano roll, Play and MIDI buttons. `stem` names the downloaded file,
// `size` may set the canvas's width and height in pixels.
function card(roll, model, stem, size) {
  const box = document.createElement("div");
  box.className = "card";
  const title = document.createElement("h3");
  title.textContent = roll.title;
  const canvas = canvasFor(roll, size);
  const actions = document.createElement("div");
  actions.className = "actions";
  const play = document.createElement("button");
  play.type = "button";
  play.className = "play";
  play.textContent = "Play";
  play.addEventListener("click", () => playRoll(roll, canvas));
  const midi = document.createElement("button");
  midi.type = "button";
  midi.className = "download";
  midi.textContent = "MIDI";
  midi.addEventListener("click", () => downloadMidi(roll, model, stem).catch(showError));
  actions.append(play, midi);
  box.append(title, canvas, actions);
  box.roll = roll;
  box.canvas = canvas;
  drawRoll(canvas, roll);
  return box;
}

// ------------------------------------------------------------------------------ sound

function frequency(pitch) { return 440 * 2 ** ((pitch - 69) / 12); }

function tone(ctx, out, pitch, start, end) {
  const gain = ctx.createGain();
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(0.5, start + 0.008);
  gain.gain.exponentialRampToValueAtTime(0.22, start + 0.15);
  gain.gain.setTargetAtTime(0, end, 0.04);
  gain.connect(out);
  for (const [type, ratio, level] of [["triangle", 1, 1], ["sine", 2, 0.25]]) {
    const osc = ctx.createOscillator();
    const partial = ctx.createGain();
    osc.type = type;
    osc.frequency.value = frequency(pitch) * ratio;
    partial.gain.value = level;
    osc.connect(partial).connect(gain);
    osc.start(start);
    osc.stop(end + 0.3);
  }
}

function drum(ctx, out, row, start) {
  if (row === 0) { // kick: a falling sine
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.setValueAtTime(140, start);
    osc.frequency.exponentialRampToValueAtTime(45, start + 0.12);
    gain.gain.setValueAtTime(0.9, start);
    gain.gain.exponentialRampToValueAtTime(0.001, start + 0.25);
    osc.connect(gain).connect(out);
    osc.start(start);
    osc.stop(start + 0.3);
    return;
  }
  const length = Math.floor(ctx.sampleRate * 0.25);
  const buffer = ctx.createBuffer(1, length, ctx.sampleRate);
  const data = buffer.getChannelData(0);
  for (let i = 0; i < length; i += 1) data[i] = Math.random() * 2 - 1;
  const noise = ctx.createBufferSource();
  noise.buffer = buffer;
  const filter = ctx.createBiquadFilter();
  filter.type = row === 1 ? "bandpass" : "highpass";
  filter.frequency.value = row === 1 ? 1800 : 4000 + 700 * row;
  const gain = ctx.createGain();
  const decay = row === 1 ? 0.18 : 0.05 + 0.02 * (row % 3);
  gain.gain.setValueAtTime(0.5, start);
  gain.gain.exponentialRampToValueAtTime(0.001, start + decay);
  noise.connect(filter).connect(gain).connect(out);
  noise.start(start);
  noise.stop(start + decay + 0.02);
}

function playRoll(roll, canvas) {
  stopPlaying();
  studio.audio = studio.audio || new AudioContext();
  const ctx = studio.audio;
  ctx.resume();
  const master = ctx.createGain();
  master.gain.value = 0.3;
  master.connect(ctx.destination);
  const secondsPerStep = 60 / studio.qpm / roll.steps_per_quarter;
  const start = ctx.currentTime + 0.08;
  let count = 0;
  for (const lane of roll.lanes) {
    for (const [pitch, first, last] of lane.notes) {
      if (lane.rows) drum(ctx, master, pitch, start + first * secondsPerStep);
      else tone(ctx, master, pitch, start + first * secondsPerStep, start + last * secondsPerStep);
      count += 1;
    }
  }
  studio.scheduledNotes = count;
  studio.playing = { master, start, secondsPerStep, roll, canvas, marks: canvas.marks || {} };
  document.body.dataset.playing = "1";
  const frame = () => {
    const playing = studio.playing;
    if (!playing) return;
    const step = (ctx.currentTime - playing.start) / playing.secondsPerStep;
    if (step >= roll.num_steps) { stopPlaying(); return; }
    drawRoll(canvas, roll, { ...playing.marks, playhead: Math.max(0, step) });
    playing.frame = requestAnimationFrame(frame);
  };
  frame();
}

function stopPlaying() {
  const playing = studio.playing;
  if (!playing) return;
  studio.playing = null;
  cancelAnimationFrame(playing.frame);
  playing.master.gain.setTargetAtTime(0, studio.audio.currentTime, 0.02);
  setTimeout(() => playing.master.disconnect(), 200);
  drawRoll(playing.canvas, playing.roll, playing.marks);
  document.body.dataset.playing = "0";
}

async function downloadMidi(roll, model, stem) {
  const blob = await request("/api/midi", { model, tokens: roll.tokens, qpm: studio.qpm }, "Writing MIDI");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `${stem}.mid`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 30000);
}

// ------------------------------------------------------------------------------ tabs

function pad(index) { return String(index + 1).padStart(2, "0"); }

async function sample(event) {
  event.preventDefault();
  const form = new FormData($("#sample-form"));
  const result = await request("/api/sample", form, "Sampling");
  $("#sample-seed").placeholder = `random (last: ${result.seed})`;
  const box = $("#sample-results");
  box.replaceChildren(...result.results.map((roll, i) => card(roll, result.model, `sample_${pad(i)}`)));
}

async function interpolate(event) {
  event.preventDefault();
  const form = new FormData($("#interp-form"));
  const result = await request("/api/interpolate", form, "Interpolating");
  const rows = [result.inputs[0], ...result.results, result.inputs[1]];
  const stems = ["input_a", ...result.results.map((_, i) => `interp_${pad(i)}`), "input_b"];
  const cards = rows.map((roll, i) => card(roll, result.model, stems[i]));
  $("#interp-grid").replaceChildren(...cards);
  studio.interpolation = { result, cards: cards.slice(1, -1) };
  const slider = $("#interp-slider");
  slider.max = String(result.results.length - 1);
  slider.value = "0";
  $("#interp-view").hidden = false;
  showStep();
}

function showStep() {
  const { result, cards } = studio.interpolation;
  const index = Number($("#interp-slider").value);
  $("#interp-slider-value").textContent = `${index + 1} of ${result.results.length}`;
  cards.forEach((c, i) => c.classList.toggle("selected", i === index));
  const focus = card(result.results[index], result.model, `interp_${pad(index)}`, { width: 1400, height: 200 });
  $("#interp-focus").replaceChildren(focus);
}

function pieceForm() {
  const form = new FormData();
  form.append("model", $("#inpaint-model").value);
  const file = $("#inpaint-file").files[0];
  if (file) form.append("file", file);
  else form.append("tune", $("#inpaint-tune").value);
  return form;
}

async function loadPiece() {
  if (!$("#inpaint-file").files[0] && !$("#inpaint-tune").value) return;
  const result = await request("/api/piece", pieceForm(), "Reading the piece");
  studio.piece = { model: result.model, roll: result.piece, num_bars: result.num_bars };
  const box = card(result.piece, result.model, "piece");
  box.id = "inpaint-piece-card";
  $("#inpaint-piece").replaceChildren(box);
  const parsed = parseBars($("#inpaint-bars").value);
  studio.selection = parsed && parsed[1] < result.num_bars ? parsed : null;
  box.canvas.marks = { selection: studio.selection };
  drawRoll(box.canvas, result.piece, box.canvas.marks);
  attachSelection(box.canvas);
}

function parseBars(text) {
  const match = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(text || "");
  if (!match) return null;
  const first = Number(match[1]) - 1;
  const last = Number(match[2] || match[1]) - 1;
  return first >= 0 && last >= first ? [first, last] : null;
}

function attachSelection(canvas) {
  const barAt = (event) => {
    const rect = canvas.getBoundingClientRect();
    const fraction = Math.min(0.9999, Math.max(0, (event.clientX - rect.left) / rect.width));
    return Math.floor(fraction * studio.piece.num_bars);
  };
  let anchor = null;
  const update = (bar) => {
    studio.selection = [Math.min(anchor, bar), Math.max(anchor, bar)];
    const [first, last] = studio.selection;
    $("#inpaint-bars").value = first === last ? `${first + 1}` : `${first + 1}-${last + 1}`;
    canvas.marks = { selection: studio.selection };
    drawRoll(canvas, studio.piece.roll, canvas.marks);
  };
  canvas.addEventListener("pointerdown", (event) => {
    anchor = barAt(event);
    canvas.setPointerCapture(event.pointerId);
    update(anchor);
  });
  canvas.addEventListener("pointermove", (event) => { if (anchor !== null) update(barAt(event)); });
  canvas.addEventListener("pointerup", () => { anchor = null; });
}

async function inpaint(event) {
  event.preventDefault();
  const form = pieceForm();
  for (const name of ["bars", "count", "temperature", "seed"]) form.append(name, $(`#inpaint-${name}`).value);
  const result = await request("/api/inpaint", form, "Filling bars");
  $("#inpaint-results").replaceChildren(...result.results.map((roll, i) => card(roll, result.model, `inpainted_${pad(i)}`)));
}

function showTab(name) {
  document.querySelectorAll(".tabs button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
  document.querySelectorAll(".tab").forEach((t) => { t.hidden = t.id !== `tab-${name}`; });
  if (name === "inpaint" && !studio.piece) loadPiece().catch(showError);
}

function fillModels(info) {
  document.querySelectorAll("select[data-use]").forEach((select) => {
    const use = select.dataset.use;
    const models = info.models.filter((m) => (use === "sample" ? m.can_sample : m.can_inpaint));
    // Inpainting lists the latent RNN models first: they are what the tab is for.
    if (use === "inpaint") models.sort((a, b) => (a.inpaint_method === "latent RNN" ? -1 : 0) - (b.inpaint_method === "latent RNN" ? -1 : 0));
    select.replaceChildren(...models.map((m) => {
      const option = document.createElement("option");
      option.value = m.name;
      const what = use === "inpaint" ? m.inpaint_method : `${m.num_bars} bars`;
      option.textContent = `${m.name} (${what})`;
      return option;
    }));
  });
  const tuneLabel = (id) => id.replace("music21:oneills1850/", "O'Neill's 1850 ").replace("#", " #");
  document.querySelectorAll("select.tunes").forEach((select) => {
    const upload = document.createElement("option");
    upload.value = "";
    upload.textContent = "(the uploaded file)";
    select.replaceChildren(upload, ...info.tunes.map((id) => {
      const option = document.createElement("option");
      option.value = id;
      option.textContent = `held out: ${tuneLabel(id)}`;
      return option;
    }));
  });
  $("#interp-a-tune").value = info.tunes[0] || "";
  $("#interp-b-tune").value = info.tunes[1] || "";
  $("#inpaint-tune").value = info.tunes[2] || info.tunes[0] || "";
  $("#sample-count").max = String(info.limits.samples);
  $("#interp-steps").max = String(info.limits.steps);
  $("#inpaint-count").max = String(info.limits.inpaint_outputs);
}

// A chosen file replaces the tune of its field and the reverse.
function pairFileAndTune(fileInput, tuneSelect, changed) {
  fileInput.addEventListener("change", () => { if (fileInput.files.length) tuneSelect.value = ""; if (changed) changed(); });
  tuneSelect.addEventListener("change", () => { if (tuneSelect.value) fileInput.value = ""; if (changed) changed(); });
}

async function start() {
  const response = await fetch("/api/models");
  studio.info = await response.json();
  fillModels(studio.info);
  const guard = (handler) => (event) => handler(event).catch(showError);
  $("#sample-form").addEventListener("submit", guard(sample));
  $("#interp-form").addEventListener("submit", guard(interpolate));
  $("#inpaint-form").addEventListener("submit", guard(inpaint));
  $("#interp-slider").addEventListener("input", showStep);
  pairFileAndTune($("#interp-a-file"), $("#interp-a-tune"));
  pairFileAndTune($("#interp-b-file"), $("#interp-b-tune"));
  pairFileAndTune($("#inpaint-file"), $("#inpaint-tune"), () => loadPiece().catch(showError));
  $("#inpaint-model").addEventListener("change", () => loadPiece().catch(showError));
  $("#inpaint-bars").addEventListener("change", () => {
    if (!studio.piece) return;
    studio.selection = parseBars($("#inpaint-bars").value);
    const canvas = $("#inpaint-piece-card").canvas;
    canvas.marks = { selection: studio.selection };
    drawRoll(canvas, studio.piece.roll, canvas.marks);
  });
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("#tempo").addEventListener("input", () => {
    studio.qpm = Number($("#tempo").value);
    $("#tempo-value").textContent = String(studio.qpm);
  });
  $("#stop").addEventListener("click", stopPlaying);
  document.body.dataset.ready = "1";
}

start().catch(showError);

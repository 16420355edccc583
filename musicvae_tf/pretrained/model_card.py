"""The ``MODEL_CARD.md`` of a shipped model, written from the files its run left behind."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

# The quality bars the shipped models are held to, per model (the 16-bar model's: issue 23).
QUALITY_BARS = {
    "folk-mel_2bar": {"teacher_forced_accuracy": 0.90, "sampled_accuracy_greedy": 0.85,
                      "active_unit_share": 0.5},
    "folk-hierdec-mel_16bar": {"teacher_forced_accuracy": 0.90, "sampled_accuracy_greedy": 0.80,
                               "z_shuffle_gap": 0.20, "active_unit_share": 0.5,
                               "interpolation_start_accuracy_to_a": 0.80,
                               "interpolation_end_accuracy_to_b": 0.80},
}


FAMILY_LABELS = {"music_vae": "MusicVAE", "inpainting": "latent-RNN inpainting",
                 "pianotree": "PianoTree VAE (polyphonic)"}


def _read_json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def _last_step(metrics_path: Path) -> dict:
    from musicvae_tf.training.metrics_log import read_metrics

    rows = read_metrics(metrics_path) if metrics_path.is_file() else []
    return rows[-1] if rows else {}


def vae_results(evaluation: dict) -> dict:
    """The numbers a MusicVAE is judged by, from its ``eval_test.json``."""
    tf_accuracy = evaluation["teacher_forced_accuracy"]
    return {
        "teacher_forced_accuracy": tf_accuracy,
        "sampled_accuracy_greedy": evaluation["sampled_accuracy_greedy"],
        "sampled_accuracy": evaluation["sampled_accuracy"],
        "sampled_over_teacher_forced": evaluation["sampled_accuracy_greedy"] / tf_accuracy,
        "active_unit_share": evaluation["active_units"] / evaluation["latent_dim"],
        "z_shuffle_gap": evaluation["z_shuffle_gap"],
        "majority_token_accuracy": evaluation["majority_token_accuracy"],
        "kl_bits": evaluation["kl_bits"],
        **_interpolation_results(evaluation.get("interpolation")),
    }


def _interpolation_results(interpolation: dict | None) -> dict:
    if not interpolation:
        return {}
    to_a, to_b = interpolation["accuracy_to_a"], interpolation["accuracy_to_b"]
    return {"interpolation_start_accuracy_to_a": to_a[0],
            "interpolation_end_accuracy_to_b": to_b[-1],
            "interpolation_accuracy_to_a_falls_monotonically":
                float(all(x >= y for x, y in zip(to_a, to_a[1:])))}


def _vae_section(name: str, folder: Path) -> list[str]:
    evaluation = _read_json(folder / "eval_test.json")
    if evaluation is None:
        return ["No evaluation was recorded."]
    results = vae_results(evaluation)
    bars = QUALITY_BARS.get(name, {})
    missed = [f"{key.replace('_', ' ')} {results[key]:.3f} (bar {bar:g})"
              for key, bar in bars.items() if results[key] < bar]
    lines = [f"Held-out test split ({evaluation['num_sequences']} windows of pieces never seen in "
             "training; z = posterior mean; greedy = argmax decoding fed back step by step; "
             "interpolation: slerp between held-out pairs, decoded greedily):", "",
             "| metric | value | bar | met |", "|---|---|---|---|"]
    for key, value in results.items():
        bar = bars.get(key)
        met = "" if bar is None else ("yes" if value >= bar else "**no**")
        lines.append(f"| {key.replace('_', ' ')} | {value:.3f} | "
                     f"{'' if bar is None else f'>= {bar:g}'} | {met} |")
    if missed:
        lines += ["", f"Not met within the training budget: {'; '.join(missed)}. See the "
                  "learning curves in `training_curves.png`."]
    stats = _read_json(folder / "stats.json")
    if stats:
        lines += ["", "Samples from the prior (T = 0.5, seed 0) against the training windows "
                  "(`musicvae-tf stats`):", "", "| statistic | training windows | samples | "
                  "relative difference |", "|---|---|---|---|"]
        sources = list(stats["statistics"].values())
        differences = next(iter(stats.get("relative_differences", {}).values()), {})
        for key, difference in differences.items():
            shown = "n/a" if difference is None else f"{100 * difference:+.1f} %"
            lines.append(f"| {key.replace('_', ' ')} | {sources[0][key]:.3f} | "
                         f"{sources[1][key]:.3f} | {shown} |")
    return lines


def _inpainting_section(folder: Path) -> list[str]:
    evaluation = _read_json(folder / "eval_test.json")
    table = folder / "eval_test.md"
    if evaluation is None or not table.is_file():
        return ["No evaluation was recorded."]
    lines = [f"Held-out test split ({evaluation['windows']} 16-bar windows), protocol A (6 past / "
             "4 missing / 6 future bars), scored over the missing bars only "
             "(`musicvae-tf evaluate-inpainting`), against latent interpolation and repeating the "
             "last known bar:", "", table.read_text().strip()]
    methods = evaluation.get("protocols", {}).get("A", {}).get("methods", {})
    if "latent_rnn" in methods:
        ours = methods["latent_rnn"]["accuracy"]
        beaten = [m for m, r in methods.items() if m != "latent_rnn" and ours > r["accuracy"]]
        missed = [f"{m.replace('_', ' ')} ({r['accuracy']:.3f})" for m, r in methods.items()
                  if m != "latent_rnn" and ours <= r["accuracy"]]
        lines += ["", "Bar (token accuracy above every baseline): "
                  + ("met." if not missed else
                     f"**not met**: {ours:.3f} does not beat {', '.join(missed)}"
                     + (f" (it beats {', '.join(b.replace('_', ' ') for b in beaten)})"
                        if beaten else "") + "; its NLL is far lower than the baselines'.")]
    return lines


def _pianotree_section(folder: Path) -> list[str]:
    evaluation = _read_json(folder / "eval_test.json")
    if evaluation is None:
        return ["No evaluation was recorded."]
    lines = [f"Held-out test split ({evaluation['num_windows']} windows, "
             f"{evaluation['num_notes']} notes, of chorales never seen in training; z = posterior "
             "mean; `musicvae-tf evaluate`): precision / recall / F1 of the reconstructed onsets "
             "(pitch + onset) and notes (pitch + onset + duration, cut at the window end).", "",
             "| reconstruction | level | precision | recall | F1 |", "|---|---|---|---|---|"]
    for mode, label in (("teacher_forced", "teacher forced"),
                        ("sampled_greedy", "greedy, fully sampled")):
        for level in ("onset", "note"):
            scores = evaluation[mode][level]
            lines.append(f"| {label} | {level} | {scores['precision']:.3f} | "
                         f"{scores['recall']:.3f} | {scores['f1']:.3f} |")
    baseline = _read_json(folder / "eval_baseline.json")
    if baseline:
        lines += ["", f"Piano-roll baseline ({baseline.get('config')}, same data, split and z "
                  "size), note F1: teacher forced "
                  f"{baseline['teacher_forced']['note']['f1']:.3f}, greedy fully sampled "
                  f"{baseline['sampled_greedy']['note']['f1']:.3f}."]
    return lines


def _stage_lines(folder: Path) -> list[str]:
    """One line per stage of a curriculum run: where it ended and its speed."""
    lines = []
    for stage in [*sorted((folder / "stages").glob("*")), folder]:
        record = _read_json(stage / "stage.json")
        if record is None:
            continue
        speed = _last_step(stage / "metrics.jsonl").get("steps_per_sec")
        curves = ("training_curves.png" if stage == folder
                  else f"stages/{stage.name}/training_curves.png")
        lines.append(f"- stage `{record['stage']}`: ended at step {record['final_step']} "
                     f"({record['stop_reason']})"
                     + (f", {1 / speed:.2f} s/step" if speed else "") + f"; curves `{curves}`")
    return lines


def write_model_card(folder: Path, name: str, family: str, data_report: dict,
                     corpora: list[str]) -> Path:
    """Write ``folder/MODEL_CARD.md`` and return its path."""
    config = yaml.safe_load((folder / "config.yaml").read_text())
    recipe = _read_json(folder / "recipe.json") or {}
    last = _last_step(folder / "metrics.jsonl")
    windows = data_report.get("windows", {})
    kind = "Bach chorales" if family == "pianotree" else "tunebooks"
    prepared_with = name if family in ("music_vae", "pianotree") else data_report.get("config")
    lines = [f"# {name}", "",
             f"Shipped {FAMILY_LABELS.get(family, family)} model of musicvae-tf. Load it by name: "
             f"`--model {name}` or `TrainedModel.load(\"{name}\")`.", "",
             "## Data", "",
             f"music21's bundled public-domain {kind} {', '.join(corpora)} only, prepared with "
             f"`musicvae-tf prepare --config {prepared_with}`: "
             f"{data_report.get('pieces_read')} pieces read; windows train {windows.get('train')}, "
             f"eval {windows.get('eval')}, test {windows.get('test')} (split by piece).", "",
             "## Training", "",
             f"Recipe: `make pretrained` (`python -m musicvae_tf.pretrained.recipe`), which ran "
             f"`{recipe.get('command', '?')}` with {recipe.get('threads', '?')} CPU thread(s), "
             f"precision {recipe.get('precision', '?')}.", "",
             f"- stopped at step {last.get('step', '?')} after {recipe.get('wall_minutes', '?')} "
             f"minutes (budget {recipe.get('minutes_budget', '?')})",
             f"- CPU: {recipe.get('cpu', {}).get('model', '?')} "
             f"({', '.join(recipe.get('cpu', {}).get('matrix_features', []))}), shared with the "
             "other shipped models' trainings",
             "- learning curves: `training_curves.png`, every summary in `metrics.jsonl`",
             *_stage_lines(folder),
             *([f"- {recipe['note']}"] if recipe.get("note") else []), "",
             "```yaml", yaml.safe_dump(config, sort_keys=False).strip(), "```", "",
             "## Evaluation", ""]
    sections = {"inpainting": _inpainting_section, "pianotree": _pianotree_section}
    lines += (sections[family](folder) if family in sections else _vae_section(name, folder))
    lines += ["", "## License", "",
              "Weights: Apache-2.0, like the package. The training pieces are in the public domain.",
              ""]
    path = folder / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path

"""``make pretrained``: prepare the public-domain folk data, then train, evaluate and pack the
shipped models, so anyone can rebuild them.

    python -m musicvae_tf.pretrained.recipe [--work pretrained_work] [--minutes 90] [--only NAME]

Steps (each skipped when its output already exists, so a rerun resumes): ``prepare`` the 2-bar
and 16-bar windows of music21's ``oneills1850`` and ``airdsAirs`` tunebooks, and the polyphonic
2-bar windows of its Bach chorales (nothing else enters the training data); ``train`` all models
at once, one CPU thread each (small models train faster
side by side than one after another on two cores), with fixed seeds from their configs and a
wall-clock budget; ``evaluate`` each on the held-out test split (and, for the MusicVAEs, sample
statistics against the training windows and attribute vectors); ``pack`` the model, config,
evaluation, curves and a model card into ``musicvae_tf/pretrained/NAME/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from musicvae_tf.training.precision import cpu_flags, resolve_precision

CORPORA = ("music21:oneills1850", "music21:airdsAirs")


@dataclasses.dataclass(frozen=True)
class ShippedModel:
    """One shipped model: its config, family and the prepared data it trains on."""

    name: str
    family: str  # "music_vae", "inpainting" or "pianotree"
    data: str  # folder under the work dir
    data_config: str  # config whose data section prepares that folder
    corpora: tuple[str, ...] = CORPORA  # what that folder is prepared from
    # A config trained beside it on the same data and evaluated into RUN/eval_baseline.json for
    # the model card's comparison (its weights are not shipped).
    baseline: str = ""
    # A shipped model whose finished run this one builds on (its curriculum's bar model): it
    # starts once that run has ended.
    after: str = ""
    # The training budget in minutes (None: the recipe's --minutes).
    minutes: float | None = None


MODELS = {
    "folk-mel_2bar": ShippedModel("folk-mel_2bar", "music_vae", "data_2bar", "folk-mel_2bar"),
    # Staged (curriculum): its bar level is folk-inpaint's measure VAE, so it trains after it;
    # its two stages take 25 and 15 minutes.
    "folk-hierdec-mel_16bar": ShippedModel("folk-hierdec-mel_16bar", "music_vae", "data_16bar",
                                           "folk-hierdec-mel_16bar", after="folk-inpaint",
                                           minutes=40),
    "folk-inpaint": ShippedModel("folk-inpaint", "inpainting", "data_16bar",
                                 "folk-hierdec-mel_16bar"),
    # Polyphonic: music21's Bach chorales (all four voices; the 4/4 ones fit the 16-step bar).
    "bach-pianotree_2bar": ShippedModel("bach-pianotree_2bar", "pianotree", "data_bach_2bar",
                                        "bach-pianotree_2bar", ("music21:bach",),
                                        baseline="bach-pianoroll_2bar"),
}
# Files copied from a finished run into musicvae_tf/pretrained/NAME/.
PACKED_FILES = ("model.keras", "config.yaml", "attributes.npz", "eval_test.json", "eval_test.md",
                "eval_baseline.json", "stage.json",
                "stats.json", "metrics.jsonl", "training_curves.png", "recipe.json")


def cli(*args: str) -> list[str]:
    """The musicvae-tf command line run with this interpreter."""
    return [sys.executable, "-m", "musicvae_tf.cli", *args]


def cpu_description() -> dict:
    """The CPU model and its matrix features (speeds compare only on one CPU kind)."""
    model = platform.processor()
    try:
        model = model or next((line.split(":", 1)[1].strip() for line in
                               Path("/proc/cpuinfo").read_text().splitlines()
                               if line.startswith("model name")), "")
    except OSError:
        pass
    matrix = sorted(f for f in cpu_flags() if f.startswith(("avx512_bf16", "amx", "avx2")))
    return {"model": model, "cores": os.cpu_count(), "matrix_features": matrix}


def prepare(work: Path, names: list[str]) -> None:
    """Prepare each data folder the chosen models need (kept when already complete)."""
    for folder, config, corpora in sorted({(MODELS[n].data, MODELS[n].data_config,
                                            MODELS[n].corpora) for n in names}):
        out = work / folder
        if (out / "report.json").is_file():
            continue
        subprocess.run(cli("prepare", "--config", config, "--corpus", *corpora, "--out",
                           str(out)), check=True)


def train_command(model: ShippedModel, work: Path, minutes: float, precision: str) -> list[str]:
    """The command line that trains (or resumes) one shipped model."""
    run = str(work / "runs" / model.name)
    common = ["--config", model.name, "--data", str(work / model.data), "--run-dir", run,
              "--strategy", "cpu", "--precision", precision, "--no-progress"]
    if model.after:
        common += ["--set", f"curriculum.bar_model={(work / 'runs' / model.after).resolve()}"]
    minutes = model.minutes or minutes
    if model.family == "inpainting":
        return cli("train-inpainting", *common, "--minutes", f"{minutes / 2:g}")
    return cli("train", *common, "--minutes", f"{minutes:g}")


def write_run_record(run: Path, command: list[str], precision: str, minutes: float,
                     started: float, exit_code: int) -> None:
    """``RUN/recipe.json``: how the run was trained, for its model card."""
    record = {"command": " ".join(command[2:]).replace("musicvae_tf.cli", "musicvae-tf"),
              "threads": 1, "precision": precision, "minutes_budget": minutes,
              "wall_minutes": round((time.time() - started) / 60, 1),
              "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "cpu": cpu_description(), "exit_code": exit_code}
    (run / "recipe.json").write_text(json.dumps(record, indent=1) + "\n")


def train(work: Path, names: list[str], minutes: float, precision: str) -> None:
    """Train the models side by side, one thread each, each as soon as the run it builds on
    (``after``) has ended; logs go to ``WORK/logs/NAME.log``."""
    env = dict(os.environ, TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1",
               OMP_NUM_THREADS="1")
    (work / "logs").mkdir(parents=True, exist_ok=True)
    models = [MODELS[n] for n in names]
    models += [dataclasses.replace(m, name=m.baseline, baseline="") for m in models if m.baseline]
    waiting = {model.name: model for model in models}
    for model in models:
        if model.after and model.after not in waiting \
                and not (work / "runs" / model.after / "model.keras").is_file():
            raise SystemExit(f"{model.name} builds on {model.after}: train that one first "
                             f"(--only {model.after} {model.name})")
    running, failed = {}, []
    while waiting or running:
        for name, model in list(waiting.items()):
            if model.after and model.after in waiting | running:
                continue
            del waiting[name]
            run = work / "runs" / name
            run.mkdir(parents=True, exist_ok=True)
            log = open(work / "logs" / f"{name}.log", "a")
            command = train_command(model, work, minutes, precision)
            running[name] = (run, command, time.time(), log, model.minutes or minutes,
                             subprocess.Popen(command, env=env, stdout=log,
                                              stderr=subprocess.STDOUT))
        time.sleep(1.0)
        for name, (run, command, started, log, budget, process) in list(running.items()):
            code = process.poll()
            if code is None:
                continue
            log.close()
            write_run_record(run, command, precision, budget, started, code)
            del running[name]
            if code != 0:
                failed.append(name)
                waiting = {n: m for n, m in waiting.items() if m.after != name}
    if failed:
        raise SystemExit(f"training failed for {', '.join(failed)}: see {work / 'logs'}")


def evaluate(work: Path, name: str) -> None:
    """Held-out test evaluation (and, for MusicVAEs, sample statistics) of a finished run."""
    model = MODELS[name]
    run, data = work / "runs" / name, str(work / model.data)
    if model.family == "inpainting":
        subprocess.run(cli("evaluate-inpainting", "--model", str(run), "--data", data,
                           "--protocols", "A", "--no-progress", "--out",
                           str(run / "eval_test.json")), check=True)
        return
    subprocess.run(cli("evaluate", "--model", str(run), "--data", data, "--split", "test",
                       "--no-progress", "--out", str(run / "eval_test.json")), check=True)
    if model.baseline:
        subprocess.run(cli("evaluate", "--model", str(work / "runs" / model.baseline), "--data",
                           data, "--split", "test", "--no-progress", "--out",
                           str(run / "eval_baseline.json")), check=True)
    subprocess.run(cli("stats", "--data", data, "--model", str(run), "--temperature", "0.5",
                       "--seed", "0", "--out", str(run / "stats.json")), check=True,
                   stdout=subprocess.DEVNULL)
    if model.family == "pianotree":  # attribute vectors measure melodies
        return
    subprocess.run(cli("attributes", "--model", str(run), "--data", data, "--split", "train"),
                   check=True, stdout=subprocess.DEVNULL)


def pack(work: Path, name: str, destination: Path) -> Path:
    """Copy a finished run's files into ``destination/NAME`` and write its model card."""
    from musicvae_tf.pretrained.model_card import write_model_card

    run, target = work / "runs" / name, destination / name
    target.mkdir(parents=True, exist_ok=True)
    for file_name in PACKED_FILES:
        if (run / file_name).is_file():
            shutil.copyfile(run / file_name, target / file_name)
    for stage in sorted((run / "stages").glob("*")):  # a curriculum's earlier stages
        for file_name in ("metrics.jsonl", "training_curves.png", "stage.json"):
            if (stage / file_name).is_file():
                (target / "stages" / stage.name).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(stage / file_name, target / "stages" / stage.name / file_name)
    report = json.loads((work / MODELS[name].data / "report.json").read_text())
    write_model_card(target, name, MODELS[name].family, report, list(MODELS[name].corpora))
    return target


def main(argv: list[str] | None = None) -> int:
    """Run the recipe."""
    from musicvae_tf.pretrained import pretrained_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="pretrained_work", help="data and run folder")
    parser.add_argument("--minutes", type=float, default=90.0, help="training budget per model")
    parser.add_argument("--only", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--precision", default="auto",
                        help="float32 or mixed_bfloat16 (default auto: bf16 where the CPU has it)")
    parser.add_argument("--skip-training", action="store_true",
                        help="evaluate and pack the runs as they are")
    parser.add_argument("--destination", default=None,
                        help="where packed models go (default: the installed package's folder)")
    args = parser.parse_args(argv)
    work = Path(args.work)
    destination = Path(args.destination) if args.destination else pretrained_root()
    prepare(work, args.only)
    if not args.skip_training:
        train(work, args.only, args.minutes, resolve_precision(args.precision)[0])
    for name in args.only:
        evaluate(work, name)
        print(f"packed {pack(work, name, destination)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

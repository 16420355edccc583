"""Training throughput of MusicVAE on this machine, against a matmul peak measured in the same run.

Prints one JSON object: per (variant, precision, LSTM implementation) steps/s, examples/s, the
model FLOPs per training step and the achieved fraction of a large square matmul's FLOP/s in the
same dtype, on the CPU or on one GPU (``--device``).

Variants (issue 3): ``small`` is cat-mel_2bar_small at batch 512; ``hierdec`` and ``flat`` are
hierdec-mel_16bar and flat-mel_16bar shrunk to encoder [512], decoder [256, 256] (conductor
[256, 256]), batch 64. ``hierdec_full`` is the full-size hierarchical config at batch 64, meant
for a peak-memory measurement. ``hierdec_512`` and ``flat_512`` are the full-size configs at their
own batch 512 (GPU sizes)::

    .venv/bin/python bench/train_throughput.py                      # all variants, fp32 + bf16
    /usr/bin/time -v .venv/bin/python bench/train_throughput.py --variants hierdec_full \
        --precisions float32 --steps 2 --warmup 1                   # "Maximum resident set size"
    .venv/bin/python bench/train_throughput.py --device gpu --lstm-impl fused,keras \
        --variants small,hierdec,flat,hierdec_full,hierdec_512,flat_512 \
        --precisions float32,mixed_float16,mixed_bfloat16           # one GPU

``--lstm-impl`` takes ``model.lstm_impl`` values: ``fused`` (the CPU kernel), ``keras`` (Keras's
LSTM function: cuDNN on a GPU, Keras's generic loop on a CPU) and ``auto`` (what training picks
here). ``--device cpu`` hides every GPU from TensorFlow, so ``auto`` is ``fused`` there.

Model FLOPs are counted the way the Magenta reference numbers were: 3 x the forward matmul FLOPs
of the architecture as written (every step multiplies ``concat(input, z or bar embedding)`` and
``h`` by the LSTM kernels; forward + backward ~ 3 x forward). Our implementation projects the
constant ``z``/embedding part once per sequence, so it executes fewer FLOPs than it is credited
with; ``executed_flops_per_step`` reports that smaller count too.

The training step is the trainer's (``musicvae_tf.training.train_step.make_train_step`` with the
``VAETask``): Adam, global-norm clipping and the skip rule included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHRUNK = ["model.encoder_units=[512]", "model.decoder_units=[256, 256]",
          "training.batch_size=64"]
VARIANTS = {
    "small": ("cat-mel_2bar_small", []),
    "hierdec": ("hierdec-mel_16bar", SHRUNK + ["model.conductor_units=[256, 256]"]),
    "flat": ("flat-mel_16bar", SHRUNK),
    "hierdec_full": ("hierdec-mel_16bar", ["training.batch_size=64"]),
    "hierdec_512": ("hierdec-mel_16bar", []),
    "flat_512": ("flat-mel_16bar", []),
}
LSTM_IMPLS = ("auto", "fused", "keras")


def select_device(name: str) -> str:
    """Restrict TensorFlow to the CPU or check for a GPU; returns the device to train on.

    Must run before TensorFlow initialises its devices (before any op)."""
    import tensorflow as tf

    if name == "cpu":
        tf.config.set_visible_devices([], "GPU")
        return "/cpu:0"
    if not tf.config.list_physical_devices("GPU"):
        raise SystemExit("--device gpu: TensorFlow sees no GPU (install .[gpu]; check nvidia-smi)")
    return "/gpu:0"


def gpu_names() -> list[str]:
    """Model names of the visible GPUs (empty on a CPU run)."""
    import tensorflow as tf

    return [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
            for gpu in tf.config.list_physical_devices("GPU")]


def _lstm_forward_flops(batch, steps, input_dim, units):
    return 2 * batch * steps * (input_dim + units) * 4 * units


def count_flops(config) -> dict[str, int]:
    """Forward matmul FLOPs of one batch: as the architecture is written, and as executed."""
    data, m, batch = config.data, config.model, config.training.batch_size
    steps, classes, latent = data.num_steps, data.num_classes, m.latent_dim
    encoder, in_dim = 0, classes
    for units in m.encoder_units:
        encoder += 2 * _lstm_forward_flops(batch, steps, in_dim, units)
        in_dim = 2 * units
    encoder += 2 * 2 * batch * in_dim * latent  # mu, sigma
    model = executed = encoder
    if m.decoder == "hierarchical":
        bars, spb = data.num_bars, data.steps_per_bar
        shared = 2 * batch * latent * 2 * sum(m.conductor_units)
        in_dim = 1
        for units in m.conductor_units:
            shared += _lstm_forward_flops(batch, bars, in_dim, units)
            in_dim = units
        conditioning, sequences, seq_steps = m.conductor_units[-1], batch * bars, spb
    else:
        shared, conditioning, sequences, seq_steps = 0, latent, batch, steps
    shared += 2 * sequences * conditioning * 2 * sum(m.decoder_units)  # initial states
    first = m.decoder_units[0]
    model += shared + _lstm_forward_flops(sequences, seq_steps, classes + conditioning, first)
    executed += shared + _lstm_forward_flops(sequences, seq_steps, classes, first)
    executed += 2 * sequences * conditioning * 4 * first  # conditioning projected once
    in_dim, rest = first, 0
    for units in m.decoder_units[1:]:
        rest += _lstm_forward_flops(sequences, seq_steps, in_dim, units)
        in_dim = units
    rest += 2 * batch * steps * in_dim * classes  # logits
    return {"model": model + rest, "executed": executed + rest}


def cpu_matrix_features() -> list[str]:
    """The CPU's AVX-512 / AMX flags (bf16 matmuls are only fast with avx512_bf16 or amx_bf16)."""
    from musicvae_tf.training.precision import cpu_flags

    return sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx")))


def measure_matmul_peak(dtype_name: str, size: int = 4096, repeats: int = 4) -> float:
    """FLOP/s of a chain of large square matmuls in ``dtype_name``."""
    import tensorflow as tf

    dtype = tf.as_dtype(dtype_name)
    a = tf.random.normal([size, size], dtype=tf.float32)
    a = tf.cast(a / size ** 0.5, dtype)

    @tf.function
    def chain(x):
        for _ in range(repeats):
            x = tf.matmul(x, a)
        return x

    chain(a).numpy()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        chain(a).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 * repeats / best


def run_variant(name: str, precision: str, lstm_impl: str, device: str, steps: int,
                warmup: int) -> dict:
    """Time ``steps`` training steps on ``device`` after ``warmup`` (tracing) steps."""
    import keras
    import numpy as np
    import tensorflow as tf

    from musicvae_tf.config import load_config
    from musicvae_tf.layers.lstm_keras import resolve_lstm_impl
    from musicvae_tf.training.precision import build_optimizer, set_precision
    from musicvae_tf.training.train_step import make_train_step
    from musicvae_tf.models.music_vae.task import VAETask

    config_name, overrides = VARIANTS[name]
    config = load_config(config_name, overrides + [f"model.lstm_impl={lstm_impl}"])
    keras.backend.clear_session()
    set_precision(precision)
    strategy = tf.distribute.OneDeviceStrategy(device)
    with strategy.scope():
        task = VAETask(config)
        optimizer = build_optimizer(task.learning_rate, precision)
        optimizer.build(task.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, trainable=False)
    train_step = make_train_step(task, optimizer, strategy, step=step,
                                 clip_norm=config.training.clip_norm,
                                 skip_norm=config.training.skip_norm)
    batch_size, data = config.training.batch_size, config.data
    rng = np.random.default_rng(0)
    with tf.device(device):  # the batch already sits on the device, as after a prefetch
        tokens = tf.constant(rng.integers(0, data.num_classes, size=(batch_size, data.num_steps)),
                             tf.int32)
        batch = (tf.one_hot(tokens, data.num_classes), tokens)
    start = time.perf_counter()
    for _ in range(warmup):
        float(train_step(batch)["loss"])
    warmup_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        logs = train_step(batch)
    loss = float(logs["loss"])
    seconds = (time.perf_counter() - start) / steps
    flops = count_flops(config)
    result = {
        "variant": name, "config": config_name, "precision": precision,
        "lstm_impl": lstm_impl, "lstm_impl_used": resolve_lstm_impl(lstm_impl),
        "device": device, "batch": batch_size,
        "parameters": int(task.model.count_params()), "timed_steps": steps,
        "warmup_seconds": round(warmup_seconds, 2), "seconds_per_step": round(seconds, 4),
        "steps_per_s": round(1 / seconds, 4), "examples_per_s": round(batch_size / seconds, 1),
        "model_flops_per_step": 3 * flops["model"],
        "executed_flops_per_step": 3 * flops["executed"],
        "model_gflops_per_s": round(3 * flops["model"] / seconds / 1e9, 1),
        "final_loss": round(loss, 3),
    }
    set_precision("float32")
    return result


def magenta_times(specs: list[str]) -> dict[str, dict]:
    """``VARIANT=PATH`` pairs -> per variant Magenta's median float32 s/step and where it came from.

    ``PATH`` is a timing JSON written by ``timed_music_vae_train.py`` of the side-by-side scripts
    (see bench/README.md): the median of ``run_s`` over its steady steps. Only a Magenta run
    measured on this machine in the same sitting makes a fair ratio.
    """
    times = {}
    for spec in specs:
        variant, _, path = spec.partition("=")
        if variant not in VARIANTS or not path:
            raise SystemExit(f"--magenta-json wants VARIANT=PATH with VARIANT one of "
                             f"{', '.join(VARIANTS)}; got {spec!r}")
        try:
            with open(path) as handle:
                median = float(json.load(handle)["run_s"]["median"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise SystemExit(f"cannot read Magenta's median s/step from {path}: {error}") from None
        times[variant] = {"seconds_per_step": median, "source": path}
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="small,hierdec,flat",
                        help=f"comma-separated, from {', '.join(VARIANTS)}")
    parser.add_argument("--precisions", default="float32,mixed_bfloat16")
    parser.add_argument("--lstm-impl", default="auto",
                        help=f"comma-separated model.lstm_impl values: {', '.join(LSTM_IMPLS)}")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu",
                        help="cpu hides the GPUs; gpu trains on the first GPU")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps (tracing) first")
    parser.add_argument("--no-peak", action="store_true", help="skip the matmul peak")
    parser.add_argument("--magenta-json", action="append", default=[], metavar="VARIANT=PATH",
                        help="Magenta's timing JSON for a variant, measured in this sitting "
                             "(bench/README.md); without it only absolute numbers are printed")
    args = parser.parse_args(argv)
    magenta = magenta_times(args.magenta_json)
    variants = [v for v in args.variants.split(",") if v]
    precisions = [p for p in args.precisions.split(",") if p]
    impls = [i for i in args.lstm_impl.split(",") if i]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(unknown)}")
    if not impls or set(impls) - set(LSTM_IMPLS):
        parser.error(f"--lstm-impl takes {', '.join(LSTM_IMPLS)}; got {args.lstm_impl!r}")

    import tensorflow as tf

    device = select_device(args.device)
    report = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "tensorflow": tf.__version__, "device": device, "gpus": gpu_names(),
                          "matrix_features": cpu_matrix_features(),
                          "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads()}}
    peaks = {}
    if not args.no_peak:
        for precision in precisions:
            dtype = "bfloat16" if "bfloat16" in precision else (
                "float16" if "float16" in precision else "float32")
            if dtype not in peaks:
                peaks[dtype] = measure_matmul_peak(dtype)
                print(f"peak {dtype}: {peaks[dtype] / 1e9:.0f} GFLOP/s", file=sys.stderr)
        report["matmul_peak_gflops"] = {k: round(v / 1e9, 1) for k, v in peaks.items()}
    results = []
    combinations = [(n, p, i) for n in variants for p in precisions for i in impls]
    for name, precision, impl in combinations:
        try:
            result = run_variant(name, precision, impl, device, args.steps, args.warmup)
        except Exception as error:  # e.g. out of memory, or no kernel for this dtype on cuDNN
            message = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
            result = {"variant": name, "precision": precision, "lstm_impl": impl,
                      "device": device, "error": f"{type(error).__name__}: {message}"}
            print(json.dumps(result), file=sys.stderr)
            results.append(result)
            continue
        dtype = "bfloat16" if "bfloat16" in precision else (
            "float16" if "float16" in precision else "float32")
        if dtype in peaks:
            result["fraction_of_peak"] = round(
                result["model_flops_per_step"] * result["steps_per_s"] / peaks[dtype], 3)
        if name in magenta:
            result["magenta_fp32_seconds_per_step"] = magenta[name]["seconds_per_step"]
            result["magenta_json"] = magenta[name]["source"]
            result["speedup_vs_magenta_fp32"] = round(
                magenta[name]["seconds_per_step"] / result["seconds_per_step"], 2)
        print(json.dumps(result), file=sys.stderr)
        results.append(result)
    report["results"] = results
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

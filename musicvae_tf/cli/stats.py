"""``musicvae-tf stats``: key, note-density and repetition statistics of windows, to compare
samples with the data they should resemble."""

from __future__ import annotations

import argparse

from musicvae_tf.cli import generation_args as common
from data_pipelines.errors import UsageError

HELP = ("melody statistics (share in one scale, notes per bar, repeated bars) of prepared data, "
        "MIDI files or samples from a model, as JSON")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stats``: any mix of sources; the first one is the reference."""
    parser.add_argument("--data", metavar="DIR", help="folder written by musicvae-tf prepare")
    parser.add_argument("--split", default="train", help="split of --data (default train)")
    parser.add_argument("--input", nargs="+", metavar="PATH",
                        help="MIDI files or folders, cut into the windows of --config")
    parser.add_argument("--config", default=None,
                        help="config whose windows --input is cut into (default: the --model's, "
                             "else the --data's, else cat-mel_2bar_small)")
    parser.add_argument("--model", metavar="MODEL",
                        help="also sample this model (run dir, .keras or shipped name) from the prior")
    parser.add_argument("--num-samples", type=common.positive_int, default=512,
                        help="samples drawn from --model (default 512)")
    common.add_sampling_arguments(parser)
    parser.add_argument("--out", help="also write the JSON to this file")


def run(args: argparse.Namespace) -> int:
    """Compute the statistics of each source, print them (and the differences) as JSON."""
    import json

    import numpy as np

    from musicvae_tf.cli.output_paths import check_output_file
    from data_pipelines.io_utils import write_json
    from musicvae_tf.melody_stats import relative_differences

    if not (args.data or args.input or args.model):
        raise UsageError("give at least one of --data, --input or --model")
    temperature = common.check_temperature(args.temperature)
    if args.out:
        check_output_file(args.out)
    sources: dict[str, np.ndarray] = {}
    model = data_config = None
    if args.model:
        from musicvae_tf.trained_model import TrainedModel

        model = TrainedModel.load(args.model)
        data_config = model.data_config
        _statistics_for(data_config)
    if args.data:
        data_config = _prepared_config(args.data, data_config)
        _statistics_for(data_config)
        sources[f"data {args.data} ({args.split})"] = _prepared_tokens(args.data, args.split,
                                                                       data_config)
    if args.input:
        from musicvae_tf.config import load_config

        input_config = (load_config(args.config).data if args.config
                        else data_config or load_config("cat-mel_2bar_small").data)
        data_config = data_config or input_config
        _statistics_for(input_config)
        sources[f"input {' '.join(args.input)}"] = _midi_tokens(args.input, input_config)
    if model is not None:
        seed = common.resolve_seed(args.seed)
        z = model.sample_latents(args.num_samples, seed, temperature)
        sources[f"samples {args.model} (T={temperature:g}, seed {seed})"] = np.asarray(
            model.decode_tokens(z, temperature=temperature, seed=seed))
    stats = {name: _statistics_for(data_config)(tokens, data_config.steps_per_bar)
             for name, tokens in sources.items()}
    report = {"steps_per_bar": data_config.steps_per_bar, "statistics": stats}
    names = list(stats)
    if len(names) > 1:
        report["relative_difference_to"] = names[0]
        report["relative_differences"] = {
            name: relative_differences(stats[names[0]], stats[name]) for name in names[1:]}
    print(json.dumps(report, indent=1))
    if args.out:
        write_json(args.out, report)
    return 0


def _statistics_for(data_config):
    """The statistics of the data's encoding: polyphony for pianotree, else melody statistics
    (a one-line error for other encodings)."""
    if data_config.encoding == "pianotree":
        from musicvae_tf.polyphony_stats import polyphony_statistics

        return polyphony_statistics
    from musicvae_tf.melody_stats import melody_statistics, require_melody

    require_melody(data_config, "these statistics")
    return melody_statistics


def _prepared_config(data_dir: str, model_config):
    """The data config of a prepared dir (the model's when given: it must match its format)."""
    import json
    from pathlib import Path

    from musicvae_tf.config import DataConfig
    from data_pipelines.errors import MusicVAEError

    if model_config is not None:
        return model_config
    info = Path(data_dir) / "data_config.json"
    try:
        values = json.loads(info.read_text())
    except (OSError, ValueError):
        raise MusicVAEError(f"{data_dir} has no readable data_config.json: prepare it with "
                            "musicvae-tf prepare") from None
    fields = {f for f in DataConfig.__dataclass_fields__}
    return DataConfig(**{k: (tuple(v) if isinstance(v, list) else v)
                         for k, v in values.items() if k in fields})


def _prepared_tokens(data_dir: str, split: str, data_config):
    import numpy as np

    from data_pipelines.reader import read_windows

    rows = [r["tokens"] for r in read_windows(data_dir, split, data_config).as_numpy_iterator()]
    return np.stack(rows) if rows else np.zeros((0, data_config.num_steps), np.int64)


def _midi_tokens(inputs: list[str], data_config):
    """The windows of every readable piece of ``inputs`` (unreadable and over-long pieces are
    skipped; when none gives a window, the error names the first skip)."""
    import numpy as np

    from data_pipelines.encodings import encoding_for
    from data_pipelines.errors import MusicVAEError
    from data_pipelines.sources import list_pieces, load_ref
    from data_pipelines.tokens import check_piece_steps, piece_steps

    encoding = encoding_for(data_config)
    windows, skipped = [], []
    for ref in list_pieces(inputs, None):
        try:
            piece = load_ref(ref)
            check_piece_steps(piece_steps(piece.note_sequence, data_config), data_config, ref.piece_id)
        except MusicVAEError as exc:
            skipped.append(str(exc))
            continue
        windows.extend(w.tokens for w in
                       encoding.note_sequence_windows(piece.note_sequence, ref.piece_id)[0])
    if not windows:
        why = f" ({skipped[0]})" if skipped else ""
        raise MusicVAEError(f"no {data_config.num_bars}-bar melody window in {' '.join(inputs)}{why}")
    return np.stack(windows)

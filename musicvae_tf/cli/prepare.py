"""``musicvae-tf prepare``: turn MIDI/ABC/NoteSequence files or a music21 corpus into token windows."""

from __future__ import annotations

import argparse
import sys

HELP = ("Extract N-bar windows (melody, drums, trio, ...: the config's data.encoding) from MIDI, ABC, "
        "NoteSequence TFRecords or music21 corpora.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register prepare's options."""
    parser.add_argument("--config", required=True,
                        help="config name (e.g. cat-mel_2bar_small) or YAML path")
    sources = parser.add_mutually_exclusive_group(required=True)
    sources.add_argument("--input", nargs="+", metavar="PATH",
                         help="MIDI/ABC/TFRecord files or folders (searched recursively)")
    sources.add_argument("--corpus", nargs="+", metavar="NAME",
                         help="music21 built-in corpus, e.g. music21:oneills1850 "
                              "(essenFolksong, oneills1850, ryansMammoth, airdsAirs; bach: the "
                              "polyphonic chorales, MusicXML)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a config field, e.g. --set data.num_bars=4 (repeatable)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: all cores)")
    parser.add_argument("--shards", type=int, default=None,
                        help="shards per split (default: one per 100,000 windows)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Run prepare and print a one-line summary."""
    from data_pipelines.prepare import prepare_dataset
    from musicvae_tf.cli.output_paths import check_output_dir
    from musicvae_tf.config import load_config
    from data_pipelines.errors import UsageError

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be >= 1")
    if args.shards is not None and args.shards < 1:
        raise UsageError("--shards must be >= 1")
    config = load_config(args.config, args.set)
    check_output_dir(args.out)
    report = prepare_dataset(config, args.input, args.corpus, args.out, workers=args.workers,
                             num_shards=args.shards, progress=not args.quiet)
    windows = report["windows"]
    skipped = sorted(report["skipped"].items(), key=lambda kv: -kv[1])[:5]
    print(f"prepared {args.out}: {report['pieces_read']}/{report['pieces_listed']} pieces read; "
          f"windows train {windows['train']}, eval {windows['eval']}, test {windows['test']}"
          + ("; skipped " + ", ".join(f"{k} {v}" for k, v in skipped) if skipped else ""),
          file=sys.stdout)
    return 0

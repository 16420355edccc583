"""What a prepare run read, wrote and skipped (written as report.json)."""

from __future__ import annotations

import collections

from data_pipelines.splits import SPLITS

# The unit each skip reason counts; reasons starting with "meter " count time segments and
# those starting with "failed (" pieces whose reading or extraction raised that error type.
SKIP_UNITS = {
    "unreadable file": "files",
    "unreadable tune": "ABC tunes",
    "unreadable record": "TFRecord records (a damaged file's rest counts as one)",
    "failed (ErrorType)": "pieces",
    "timed out": "pieces (over data.max_seconds_per_piece)",
    "worker crashed": "pieces (their worker process died twice)",
    "too long": "pieces (over data.max_piece_steps)",
    "no notes": "pieces",
    "meter N/D": "time segments of that meter holding notes",
    "bad tempo": "time segments holding notes",
    "bad note times": "notes",
    "drums": "notes",
    "program filtered": "notes",
    "zero velocity": "notes",
    "out of range notes": "notes",
    "polyphony reduced": "notes",
    "too short": "melodies",
    "empty windows": "windows",
    "duplicates": "windows",
    "no windows": "pieces",
}


# report.json names at most this many pieces per skip reason (in input order), plus their count.
MAX_NAMED_PIECES = 50


class PrepareReport:
    """Counts accumulated over the pieces of one prepare run."""

    def __init__(self) -> None:
        self.pieces_listed = 0
        self.pieces_read = 0
        self.pieces_per_split: collections.Counter = collections.Counter()
        self.windows_per_split: collections.Counter = collections.Counter()
        self.skips: collections.Counter = collections.Counter()
        self.skipped_pieces: dict[str, dict] = {}

    def add_piece(self, piece_id: str, readable: bool, split: str, windows: int,
                  skips: dict) -> None:
        """Record one piece's outcome."""
        self.pieces_listed += 1
        reasons = {k: v for k, v in skips.items() if v}
        if readable and not windows:
            reasons["no windows"] = 1
        self.skips.update(reasons)
        for reason in reasons:
            entry = self.skipped_pieces.setdefault(reason, {"pieces": 0, "first": []})
            entry["pieces"] += 1
            if len(entry["first"]) < MAX_NAMED_PIECES:
                entry["first"].append(piece_id)
        if not readable:
            return
        self.pieces_read += 1
        if windows:
            self.pieces_per_split[split] += 1
            self.windows_per_split[split] += windows

    @property
    def total_windows(self) -> int:
        """Windows kept over all splits."""
        return sum(self.windows_per_split.values())

    def to_dict(self, **extra) -> dict:
        """The JSON-ready report; ``extra`` entries come first (config, inputs, shards...)."""
        return {
            **extra,
            "pieces_listed": self.pieces_listed,
            "pieces_read": self.pieces_read,
            "pieces_with_windows": {s: self.pieces_per_split[s] for s in SPLITS},
            "windows": {s: self.windows_per_split[s] for s in SPLITS},
            "skipped": dict(sorted(self.skips.items())),
            "skipped_pieces": dict(sorted(self.skipped_pieces.items())),
            "skip_units": SKIP_UNITS,
        }

    def summary(self) -> str:
        """One line for the terminal."""
        windows = ", ".join(f"{s} {self.windows_per_split[s]}" for s in SPLITS)
        top = ", ".join(f"{k} {v}" for k, v in self.skips.most_common(4))
        return (f"{self.pieces_read}/{self.pieces_listed} pieces read; windows: {windows}"
                + (f"; most skipped: {top}" if top else ""))

"""Train/eval/test assignment per source piece by a stable hash, so a piece never spans splits."""

from __future__ import annotations

import hashlib

from data_pipelines.data_config import DataConfig

SPLITS = ("train", "eval", "test")


def split_key(piece_id: str) -> str:
    """The part of a piece id that decides its split.

    File pieces hash only their file name (plus ``#tune``), so moving a dataset folder or spelling
    its path differently keeps every split; music21 corpus ids hash whole.
    """
    if piece_id.startswith("music21:"):
        return piece_id
    return piece_id.replace("\\", "/").rsplit("/", 1)[-1]


def split_for(piece_id: str, data_config: DataConfig) -> str:
    """``'train'``, ``'eval'`` or ``'test'`` for a piece, from sha1 of its split key."""
    digest = hashlib.sha1(split_key(piece_id).encode("utf-8")).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2.0**64
    if fraction < data_config.test_fraction:
        return "test"
    if fraction < data_config.test_fraction + data_config.eval_fraction:
        return "eval"
    return "train"

"""Errors that the command line turns into one clear line instead of a traceback."""


class MusicVAEError(Exception):
    """A problem with the user's input or environment; exit code 1."""

    exit_code = 1


class UsageError(MusicVAEError):
    """Wrong arguments or an unknown name; exit code 2."""

    exit_code = 2


def describe_os_error(exc: OSError) -> str:
    """One line for a failed read or write: what failed and on which path (no errno noise)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{reason}: {' -> '.join(paths)}" if paths else reason

"""Errors that the command line turns into one clear line instead of a traceback."""


class MusicVAEError(Exception):
    """A problem with the user's input or environment; exit code 1."""

    exit_code = 1


class UsageError(MusicVAEError):
    """Wrong arguments or an unknown name; exit code 2."""

    exit_code = 2

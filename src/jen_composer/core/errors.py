"""User-facing errors. The CLI prints them as one line (no traceback) and exits with code 2."""


class JenComposerError(Exception):
    """Base class for errors caused by the user's input (config, files, arguments)."""


class ConfigError(JenComposerError):
    """A config file or override is wrong: unknown key, bad type, missing file."""


class DataError(JenComposerError):
    """An input file or dataset is unusable; the message names the song and file."""


class CheckpointError(JenComposerError):
    """A checkpoint or exported artefact is missing, corrupt or of the wrong kind."""


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type name when the message is empty."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

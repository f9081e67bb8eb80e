"""Errors a user can act on: each names the file and what is wrong with it."""


class IdlError(Exception):
    """Base class for errors that are shown to the user without a traceback."""


class DataError(IdlError):
    """A dataset file is missing, corrupt or has the wrong layout."""


class DownloadError(IdlError):
    """A download failed (network, server, checksum, truncated transfer)."""


class ParamsError(IdlError):
    """params.yaml (or a --config override) is invalid."""

"""The exceptions of :mod:`cnnbp.data`.

Both are ``ValueError`` subclasses, so a caller that only knows "bad input"
can still catch them; the CLI turns them into a one-line message.
"""


class DataError(ValueError):
    """A data file is missing, truncated, corrupted or not what was expected.

    The message names the file and states what was expected and what was found.
    """


class DownloadError(DataError):
    """No mirror could provide a verified copy of a file.

    The message lists every URL tried with the reason it failed, and says how to
    point cnnbp at local copies instead (``--data-dir`` or ``CNNBP_DATA_DIR``).
    """

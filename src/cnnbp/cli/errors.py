"""The one exception the CLI turns into a one-line message and exit status 2."""


class CLIError(Exception):
    """A bad argument or file named on the command line."""

"""The one exception type a user can cause."""


class UnisonoError(Exception):
    """A problem with the user's input, files or environment, with a message saying what to do."""

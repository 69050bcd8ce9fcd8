"""User-facing errors. ``str(error)`` is the one line the user sees."""

from __future__ import annotations


class KeyscanError(Exception):
    """A problem the user can fix: bad arguments, bad config, not a repository. Exit code 2."""

    exit_code = 2


class ConfigError(KeyscanError):
    pass


class RuleError(KeyscanError):
    pass


class GitError(KeyscanError):
    pass


class MissingExtraError(KeyscanError):
    pass

"""The exceptions of pchat_guard. Every one is a `ModuleError`: the CLI's exit code 3."""

from __future__ import annotations


class ModuleError(Exception):
    """The module could not do its part: it trapped, answered something unreadable, refused the
    request, hit a limit, or is not a module this host can run."""


class ModuleRefusedError(ModuleError):
    """The module is not one this host can run: it imports something, lacks an export of the
    ABI, or speaks another ABI version than 2."""


class RequestError(ModuleError):
    """The module answered `{"status": "error"}`: the request itself was unusable (a bad
    `today`, a wrong waiver field...). A malformed manifest is not this: it gets a report."""


class LimitError(ModuleError):
    """A limit stopped the call: `limit` is `"fuel limit"` or `"memory limit"`. The instance is
    replaced on the next call."""

    def __init__(self, limit: str, detail: str) -> None:
        self.limit = limit
        self.detail = detail
        super().__init__(f"the {limit} was reached ({detail})")

"""Errors a person can act on. Library code raises these; only the CLI prints them."""

from __future__ import annotations


class KbError(Exception):
    """Base class for every error the knowledge base raises on purpose."""


class ParseError(KbError):
    """A source file that cannot be read as a notice.

    Prints as ``path:line:column: message`` so editors and terminals can jump to it.
    """

    def __init__(self, path: str, message: str, line: int | None = None, column: int | None = None):
        self.path = path
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class NotFoundError(KbError):
    """An id, 文号 or file that is not in the knowledge base."""

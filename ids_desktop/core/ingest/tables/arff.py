"""A small reader for the header of dense ARFF files (Weka's text format, as NSL-KDD ships it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TextIO

from ids_desktop.errors import InputError

#: ``@attribute <name> <type>``: the name is quoted with ' or " or is a bare word.
_ATTRIBUTE = re.compile(
    r"""^@attribute\s+(?:'(?P<sq>(?:[^'\\]|\\.)*)'|"(?P<dq>(?:[^"\\]|\\.)*)"|(?P<bare>\S+))\s*(?P<type>.*)$""",
    re.IGNORECASE,
)


@dataclass
class ArffHeader:
    """What the lines before ``@data`` declare.

    Attributes
    ----------
    relation
        The ``@relation`` name (empty when absent).
    names
        Attribute names in declaration order.
    types
        The declared type of each attribute as written (``real``, ``{'tcp','udp'}``, ...).
    lines
        How many lines the header takes, ``@data`` included.
    """

    relation: str = ""
    names: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    lines: int = 0

    def is_nominal(self, name: str) -> bool:
        """True when ``name`` was declared with a ``{...}`` value list or as a string."""
        kind = self.types[self.names.index(name)].strip().lower()
        return kind.startswith(("{", "string"))


def looks_like_arff(first_line: str) -> bool:
    """True when the first non-blank line of a text file opens an ARFF header."""
    head = first_line.lstrip("\ufeff").strip().lower()
    return head.startswith(("@relation", "@attribute", "%"))


def read_header(text: TextIO, max_line: int) -> ArffHeader:
    """Read ARFF header lines from ``text`` up to and including ``@data``.

    Parameters
    ----------
    text
        A text stream positioned at the start of the file; on return it is positioned at the
        first data line.
    max_line
        Longest header line accepted, in characters.

    Raises
    ------
    InputError
        When the header is malformed, has no attributes or never reaches ``@data``.
    """
    header = ArffHeader()
    while True:
        line = text.readline(max_line)
        if not line:
            raise InputError("the ARFF header has no @data line; the file is cut short")
        header.lines += 1
        if len(line) >= max_line and not line.endswith(("\n", "\r")):
            raise InputError(
                f"ARFF header line {header.lines} is longer than {max_line} characters"
            )
        stripped = line.strip()
        if not stripped or stripped.startswith("%"):
            continue
        lowered = stripped.lower()
        if lowered.startswith("@relation"):
            header.relation = stripped[len("@relation") :].strip().strip("'\"")
        elif lowered.startswith("@attribute"):
            match = _ATTRIBUTE.match(stripped)
            if match is None:
                raise InputError(f"ARFF header line {header.lines} is not a valid @attribute line")
            name = match.group("sq") or match.group("dq") or match.group("bare") or ""
            header.names.append(name.strip())
            header.types.append(match.group("type"))
        elif lowered.startswith("@data"):
            break
        else:
            raise InputError(
                f"ARFF header line {header.lines} is neither @relation, @attribute nor @data"
            )
    if not header.names:
        raise InputError("the ARFF header declares no @attribute")
    return header

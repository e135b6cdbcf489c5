"""A bundle's model card (Markdown) as reportlab flowables: headings, paragraphs, lists, tables.

The card is parsed with markdown-it-py (CommonMark plus tables), so the PDF shows text and
tables rather than ``##`` and ``|---|``. Training files' SHA-256 digests are left out by
:func:`readable_card`: they identify the lab's files, which a report's reader cannot check
and does not need.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["card_flowables", "readable_card"]

_HASH = re.compile(r",?\s*SHA-256\s*`?[0-9a-fA-F]{64}`?|`?\b[0-9a-fA-F]{64}\b`?")
#: Longest card the report renders (characters); a longer one is cut with a note.
CARD_CHARS = 40_000


def readable_card(markdown: str) -> str:
    """The card without SHA-256 digests (of training files or anything else)."""
    return _HASH.sub("", markdown)


def _inline(token: Any) -> str:
    """An inline token's children as reportlab mini-markup, every text escaped."""
    out: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind == "text":
            out.append(escape(child.content))
        elif kind == "code_inline":
            out.append(f'<font face="Courier">{escape(child.content)}</font>')
        elif kind in ("softbreak", "hardbreak"):
            out.append(" ")
        elif kind == "strong_open":
            out.append("<b>")
        elif kind == "strong_close":
            out.append("</b>")
        elif kind == "em_open":
            out.append("<i>")
        elif kind == "em_close":
            out.append("</i>")
        elif child.content:
            out.append(escape(child.content))
    return "".join(out)


def card_flowables(markdown: str, styles: Any, small: Any, grid: Any, width: float) -> list[Any]:
    """The card as flowables: ``#`` headings as headings, ``-`` lists as bullets, pipe tables
    as tables, the rest as paragraphs (all text escaped: a card is a file on disk)."""
    from markdown_it import MarkdownIt
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Spacer, Table

    text = readable_card(markdown)
    note = ""
    if len(text) > CARD_CHARS:
        text, note = text[:CARD_CHARS], f"(the card is cut at {CARD_CHARS:,} characters)"
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    body = ParagraphStyle("card", parent=styles["BodyText"], fontSize=8, leading=10)
    bullet = ParagraphStyle("card-bullet", parent=body, leftIndent=10, bulletIndent=2)
    heads = {"h1": styles["Heading3"], "h2": styles["Heading4"], "h3": styles["Heading5"]}
    out: list[Any] = []
    heading: Any = None
    in_item = 0
    table: list[list[str]] | None = None
    for i, tok in enumerate(tokens):
        kind = tok.type
        if kind == "heading_open":
            heading = heads.get(tok.tag, styles["Heading5"])
        elif kind == "heading_close":
            heading = None
        elif kind == "list_item_open":
            in_item += 1
        elif kind == "list_item_close":
            in_item -= 1
        elif kind == "table_open":
            table = []
        elif kind == "tr_open" and table is not None:
            table.append([])
        elif kind == "inline" and table is not None and tokens[i - 1].type in ("th_open",
                                                                               "td_open"):
            table[-1].append(_inline(tok))
        elif kind == "table_close" and table is not None:
            rows = [r for r in table if r]
            if rows:
                n = max(len(r) for r in rows)
                data = [[Paragraph(c, small) for c in r + [""] * (n - len(r))] for r in rows]
                t = Table(data, colWidths=[width / n] * n, repeatRows=1)
                t.setStyle(grid)
                out += [t, Spacer(1, 4)]
            table = None
        elif kind == "inline" and table is None:
            markup = _inline(tok)
            if not markup.strip():
                continue
            if heading is not None:
                out.append(Paragraph(markup, heading))
            elif in_item:
                out.append(Paragraph(markup, bullet, bulletText="•"))
            else:
                out.append(Paragraph(markup, body))
        elif kind in ("fence", "code_block"):
            out.append(Paragraph(f'<font face="Courier">{escape(tok.content)}</font>', small))
    if note:
        out.append(Paragraph(escape(note), small))
    return out

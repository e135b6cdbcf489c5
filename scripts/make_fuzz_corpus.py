"""Write a corpus of broken and hostile inputs for the fuzz test and ``bench/fuzz.py`` (issue 10).

A thin command line over :func:`ids_desktop.synth.fuzz_corpus.build_corpus`: generated
captures and flow tables, and (unless ``--no-shared``) small parts of ``../shared/data``, each
damaged in every way :mod:`ids_desktop.synth.capture_mutations` and
:mod:`ids_desktop.synth.table_mutations` know. Seeded and deterministic.

Usage::

    python scripts/make_fuzz_corpus.py --out /tmp/ids-fuzz [--seed 0] [--no-shared]

It prints one line per file kind and writes ``manifest.json`` (name, kind, source, mutation)
beside the files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ids_desktop.synth.fuzz_corpus import build_corpus

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, required=True,
                        help="corpus folder (outside the repository)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-shared", action="store_true",
                        help="ignore ../shared/data even when present")  # fmt: skip
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if out == REPO or REPO in out.parents:
        parser.error(
            "write the corpus outside the repository (it may hold copies of ../shared/data)"
        )
    items = build_corpus(out, seed=args.seed, shared=not args.no_shared)
    kinds: dict[str, int] = {}
    for i in items:
        kinds[i.kind] = kinds.get(i.kind, 0) + 1
    summary = ", ".join(f"{v} {k}s" for k, v in sorted(kinds.items()))
    print(f"{out}: {len(items)} inputs ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

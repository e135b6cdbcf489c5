"""The host-level detectors on captures that code writes, and on the shared captures."""

from __future__ import annotations

from ids_desktop.core.detect import Finding


def only(findings: tuple[Finding, ...], detector: str) -> Finding:
    """The one finding of ``detector``, after checking that no other detector spoke."""
    assert [f.detector for f in findings] == [detector], [f.summary for f in findings]
    return findings[0]


def named(findings: tuple[Finding, ...], detector: str) -> list[Finding]:
    """The findings of ``detector``."""
    return [f for f in findings if f.detector == detector]

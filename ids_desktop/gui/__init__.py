"""Qt layer: windows, models and workers over the headless core."""

from __future__ import annotations

import sys

#: Added to the reference counts of None, True and False on Python < 3.12 (see below).
_PIN = 1 << 50


def pin_singletons() -> bool:
    """Keep ``None``, ``True`` and ``False`` alive whatever a binding's reference bugs do.

    PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` on every call of a
    ``void`` Qt method from Python (``setText``, ``update``, ``repaint``...) and every time a
    Python ``data()`` override returns ``None`` to Qt; ``True``/``False`` leak the same way.
    Python 3.12 made these objects immortal, so the bug only shows on 3.10/3.11: after some
    ten thousand such calls per live ``None`` reference (about a minute of an analysis with a
    busy table), CPython aborts with "Fatal Python error: none_dealloc". Raising their counts
    by 2**50 is what 3.12 does in effect; the objects are never freed either way.

    Returns True when the counts were raised (False on 3.12+, where they are immortal).
    """
    if sys.version_info >= (3, 12):
        return False
    import ctypes

    for obj in (None, True, False):
        before = sys.getrefcount(obj)
        cell = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt: PyObject's first field
        if abs(cell.value - before) > 16:  # not the object layout we expect: leave it alone
            return False
        cell.value += _PIN
    return True


pin_singletons()

"""One explanation chart: what to draw, decided once for the GUI, the PDF and ``--png``.

``chart_spec`` turns an explanation into bars (label, weight, colour) and a per-timestep
strip (which earlier flows mattered). Renderers only draw it: pyqtgraph in the detail pane,
reportlab in the PDF, matplotlib for ``ids-desktop-cli explain --png``. None of them decides
order, labels or colours, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ids_desktop.core.explain.explainer import probability_text, step_label

TOWARDS = "#c0392b"  # pushes towards the explained verdict
AGAINST = "#2980b9"  # pushes against it
MAX_BARS = 10
#: The weight axis, named the same under every renderer.
WEIGHT_AXIS = "LIME weight (log-odds; right: towards the verdict)"


@dataclass(frozen=True)
class ChartSpec:
    """Plain data for one explanation chart.

    Attributes
    ----------
    title
        e.g. ``"scan, p=0.97"``.
    bars
        ``(label, weight, colour)``, largest |weight| first.
    strip
        ``(timestep, share)``: share of the total |weight| per flow of the sequence, in
        timestep order (``t+k``: flows after the explained one, ``t-0``, then earlier ones).
    """

    title: str
    bars: tuple[tuple[str, float, str], ...]
    strip: tuple[tuple[int, float], ...]


def chart_spec(explanation: Any, max_bars: int = MAX_BARS) -> ChartSpec:
    """Build the chart of an :class:`~ids_desktop.core.explain.explainer.Explanation`."""
    bars = tuple(
        (c.display, float(c.weight), TOWARDS if c.weight >= 0 else AGAINST)
        for c in explanation.contributions[:max_bars]
    )
    total = sum(abs(w) for w in explanation.by_timestep.values()) or 1.0
    strip = tuple(
        (int(t), abs(float(w)) / total) for t, w in sorted(explanation.by_timestep.items())
    )
    title = f"{explanation.predicted_class}, {probability_text(explanation)}"
    return ChartSpec(title, bars, strip)


def spec_from_pairs(pairs: list[tuple[str, float]], title: str = "") -> ChartSpec:
    """A chart from ``(label, weight)`` pairs (no timestep strip), e.g. from a saved report."""
    bars = tuple((label, float(w), TOWARDS if w >= 0 else AGAINST) for label, w in pairs[:MAX_BARS])
    return ChartSpec(title, bars, ())


def figure(spec: ChartSpec, *, width_in: float = 7.0) -> Any:
    """``spec`` drawn on a matplotlib figure with the Agg backend (no display needed).

    Every text stays inside the figure however long the bar labels are: long labels push
    the axes right, so the strip's title is set in two short lines.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(1, len(spec.bars))
    has_strip = len(spec.strip) > 1
    fig, axes = plt.subplots(
        2 if has_strip else 1, 1, figsize=(width_in, 0.35 * n + (1.6 if has_strip else 0.9)),
        gridspec_kw={"height_ratios": [n, 1.2]} if has_strip else None, squeeze=False,
    )
    ax = axes[0][0]
    labels = [b[0] for b in spec.bars][::-1]
    weights = [b[1] for b in spec.bars][::-1]
    colours = [b[2] for b in spec.bars][::-1]
    ax.barh(range(len(weights)), weights, color=colours)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_xlabel(WEIGHT_AXIS, fontsize=8)
    ax.set_title(spec.title, fontsize=10)
    if has_strip:
        sx = axes[1][0]
        steps = [step_label(t) for t, _ in spec.strip]
        sx.bar(steps, [s for _, s in spec.strip], color="#7f8c8d")
        sx.set_ylabel("share", fontsize=8)
        sx.set_title("evidence per flow of the sequence\n(t-0 is the explained flow, "
                     "t+k came after it)", fontsize=8)
        sx.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def render_png(spec: ChartSpec, out: str | Path, *, width_in: float = 7.0) -> Path:
    """Draw ``spec`` to a PNG (:func:`figure`)."""
    import matplotlib.pyplot as plt

    from ids_desktop.core.atomic import atomic_path

    fig = figure(spec, width_in=width_in)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return Path(out)

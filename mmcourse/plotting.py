"""Figures shared by the chapters: one style, and the plots more than one chapter draws.

``use_course_style()`` sets thick lines and readable fonts (the book is also projected in
lectures); the ``plot_*`` functions draw on a given matplotlib Axes and return it.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["use_course_style", "plot_prices", "plot_series", "plot_estimate_band"]

#: Colours used consistently across the book.
COLORS = {"fundamental": "#1f77b4", "market_maker": "#d62728", "neutral": "#555555",
          "band": "#9ecae1", "exact": "#2ca02c"}


def use_course_style() -> None:
    """Thick lines, readable fonts, light grid, figures sized for a book column."""
    mpl.rcParams.update({
        "figure.figsize": (8, 4), "figure.dpi": 110, "savefig.dpi": 110,
        "lines.linewidth": 2.0, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False,
        "font.size": 12, "axes.labelsize": 12, "axes.titlesize": 13, "legend.fontsize": 11,
        "figure.constrained_layout.use": True,
    })


def plot_prices(ax, fundamental, mm_price, title: str | None = None):
    """The fundamental price p*_t and the market maker's price m_t over one day (step plots)."""
    t = np.arange(len(fundamental))
    ax.step(t, fundamental, where="post", color=COLORS["fundamental"], label="fundamental price $p^*_t$")
    ax.step(t, mm_price, where="post", color=COLORS["market_maker"], label="market maker's price $m_t$")
    ax.set_xlabel("step $t$ within the trading day")
    ax.set_ylabel("price (ticks)")
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return ax


def plot_series(ax, values, ylabel: str, color: str | None = None, kind: str = "step", label=None):
    """One per-step series (imbalance, rewards, …) against the step t."""
    t = np.arange(len(values))
    color = color or COLORS["neutral"]
    if kind == "step":
        ax.step(t, values, where="post", color=color, label=label)
    elif kind == "stem":
        ax.vlines(t, 0, values, color=color, linewidth=1.5, label=label)
        ax.axhline(0, color="black", linewidth=0.8)
    else:
        ax.plot(t, values, color=color, label=label)
    ax.set_xlabel("step $t$ within the trading day")
    ax.set_ylabel(ylabel)
    return ax


def plot_estimate_band(ax, x, mean, lower, upper, label: str, color: str | None = None):
    """A mean curve with a shaded confidence band."""
    color = color or COLORS["market_maker"]
    ax.fill_between(x, lower, upper, color=color, alpha=0.25, linewidth=0, label=f"{label}: 95 % band")
    ax.plot(x, mean, color=color, label=label)
    return ax

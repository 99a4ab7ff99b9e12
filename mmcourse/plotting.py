"""Figures shared by the chapters: one style, and the plots more than one chapter draws.

:func:`use_course_style` sets thick lines and readable fonts, which stay legible on a
projector; the ``plot_*`` functions draw on a given matplotlib Axes and return it, and
``COLORS`` keeps each quantity's colour the same in every figure.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

__all__ = ["use_course_style", "plot_prices", "plot_series", "plot_estimate_band"]

#: Colours used consistently across the book.
COLORS = {"fundamental": "#1f77b4", "market_maker": "#d62728", "neutral": "#555555",
          "band": "#9ecae1", "exact": "#2ca02c"}


def use_course_style() -> None:
    """Set matplotlib's defaults to the course style: thick lines, readable fonts, light grid,
    figures sized for a book column.

    The style changes ``matplotlib.rcParams``, so it holds for every figure drawn afterwards
    in the session.

    Returns
    -------
    None
    """
    mpl.rcParams.update({
        "figure.figsize": (8, 4), "figure.dpi": 110, "savefig.dpi": 110,
        "lines.linewidth": 2.0, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False,
        "font.size": 12, "axes.labelsize": 12, "axes.titlesize": 13, "legend.fontsize": 11,
        "figure.constrained_layout.use": True,
    })


def plot_prices(ax, fundamental, mm_price, title: str | None = None):
    """The fundamental price p*_t and the market maker's price m_t over one day (step plots).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The Axes to draw on.
    fundamental : array_like
        p*_t for t = 0 … T−1, e.g. an episode's ``fundamental_price``.
    mm_price : array_like
        m_t for t = 0 … T−1, e.g. an episode's ``mm_price``.
    title : str or None
        The Axes' title; None for none.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, with both prices, axis labels and a legend.
    """
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
    """One per-step series (imbalance, rewards, …) against the step t.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The Axes to draw on.
    values : array_like
        The series' value at each step t = 0, 1, ….
    ylabel : str
        The label of the y axis.
    color : str or None
        The line colour; None for ``COLORS["neutral"]``.
    kind : str
        ``"step"`` for a step plot, ``"stem"`` for vertical bars from 0 (with a line at 0),
        anything else for a plain line.
    label : str or None
        The series' legend entry.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
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
    """A mean curve with a shaded confidence band.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The Axes to draw on.
    x : array_like
        The x values, e.g. the episodes.
    mean : array_like
        The curve.
    lower, upper : array_like
        The band's edges, e.g. the columns of
        :meth:`~mmcourse.chan_shelton.experiment.LearningCurves.band`.
    label : str
        The curve's legend entry; the band's is ``label`` followed by ": 95 % band".
    color : str or None
        The colour of the curve and the band; None for ``COLORS["market_maker"]``.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    color = color or COLORS["market_maker"]
    ax.fill_between(x, lower, upper, color=color, alpha=0.25, linewidth=0, label=f"{label}: 95 % band")
    ax.plot(x, mean, color=color, label=label)
    return ax

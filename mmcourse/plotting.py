"""Figures shared by the chapters: one style, and the plots more than one chapter draws.

:func:`use_course_style` sets thick lines and readable fonts, which stay legible on a
projector; the ``plot_*`` functions draw on a given matplotlib Axes and return it, and
``COLORS`` keeps each quantity's colour the same in every figure.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

__all__ = ["use_course_style", "plot_prices", "plot_series", "plot_estimate_band", "plot_book",
           "plot_depths"]

#: Colours used consistently across the book (in Part II, buy orders share the fundamental's blue).
COLORS = {"fundamental": "#1f77b4", "market_maker": "#d62728", "neutral": "#555555",
          "band": "#9ecae1", "exact": "#2ca02c", "buy": "#1f77b4", "sell": "#ff7f0e"}


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


def plot_estimate_band(ax, x, mean, lower, upper, label: str, color: str | None = None,
                       level: float = 0.95):
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
    level : float
        The band's confidence level, for its legend entry (0.95 gives "95 % band").

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    color = color or COLORS["market_maker"]
    ax.fill_between(x, lower, upper, color=color, alpha=0.25, linewidth=0,
                    label=f"{label}: {100 * level:g} % band")
    ax.plot(x, mean, color=color, label=label)
    return ax


def plot_book(ax, book, mark=None, mm_orders=(), title: str | None = None):
    """Draw a limit order book as a mirrored bar chart: buy volume to the left, sell volume to
    the right, price upwards.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to draw on.
    book : mmcourse.lob.Book
        The book.
    mark : int or None
        A price to shade (the one an event acts on, say).
    mm_orders : sequence of (price, units)
        The market maker's own orders, drawn in its colour next to the axis (it is first in
        the queue at its prices); a price at or below the best bid is a buy order.
    title : str or None
        The axes' title.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

    f = book.to_frame()
    buy, sell = f[f.side == "bid"], f[f.side == "ask"]
    ax.barh(buy.price, -buy.volume, color=COLORS["buy"], label="buy orders")
    ax.barh(sell.price, sell.volume, color=COLORS["sell"], label="sell orders")
    for k, (price, units) in enumerate(mm_orders):
        side = -1 if price <= book.bid else 1
        ax.barh(price, side * units, color=COLORS["market_maker"],
                label="market maker" if k == 0 else None)
    if mark is not None:
        ax.axhspan(mark - 0.5, mark + 0.5, color="gold", alpha=0.4, zorder=0)
    ax.axhline(book.mid, color=COLORS["neutral"], linestyle=":")
    ax.axvline(0, color="black", linewidth=1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{abs(x):g}"))
    ax.yaxis.set_major_locator(MultipleLocator(2))     # every other price
    ax.set_xlabel("volume (units)\n← buy | sell →")
    ax.set_ylabel("price (ticks)")
    ax.set_title(title)
    return ax


def plot_depths(policy, suptitle: str, max_depth: int = 5):
    """Heat maps of a policy's bid and ask depths over (time bucket, inventory bucket).

    Parameters
    ----------
    policy : mmcourse.lob.GreedyPolicy
        A policy with a depth table, e.g. ``result.greedy_policy`` of a Q-learning run.
    suptitle : str
        The figure's title.
    max_depth : int
        D, the deepest depth on the colour scale (the default ``LOBParams().max_quote_depth``).

    Returns
    -------
    matplotlib.figure.Figure
        A new figure with one panel per side.
    """
    import matplotlib.pyplot as plt

    depths = policy.depths                     # time × inventory × (bid, ask)
    c = (depths.shape[1] - 1) // 2
    top = max_depth
    extent = (-0.5, depths.shape[0] - 0.5, -c - 0.5, c + 0.5)
    cmap = plt.get_cmap("viridis", top)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    for k, (ax, side) in enumerate(zip(axes, ("bid", "ask"))):
        im = ax.imshow(depths[:, :, k].T, origin="lower", aspect="auto",
                       extent=extent, cmap=cmap, vmin=0.5, vmax=top + 0.5)
        ax.set_xlabel("time step $t$")
        ax.set_title(f"{side} depth")
        fig.colorbar(im, ax=ax, ticks=range(1, top + 1), label=f"{side} depth (ticks)")
        ax.grid(False)
    axes[0].set_ylabel("inventory bucket")
    fig.suptitle(suptitle)
    return fig

"""A Markov-chain limit order book and a market maker that learns its quote depths.

The book (Hult & Kiessling; the "MC model" of Carlsson & Regnell, 2022) is the best ask a,
the spread s = a − b and, for j = 1…L, the sell volume at b + j and the buy volume at a − j:
each side is indexed from the *opposite* best price, so the levels inside the spread are part
of the window and empty. Outside the window every price level holds ``outside_volume`` units.
Six competing exponential clocks move the book: limit buys at a − i and limit sells at b + i
(rate λ_i), cancellations of one unit at a − i or b + i (rate θ_i × the other traders' volume
there), and market sells/buys at the best bid/ask (rate μ, only if that price has volume).

A market maker quotes depths (d_b, d_a) ∈ {1…D}² from the opposite best price at the start
of each step t = 0…T−2, is first in the queue at its prices, and cancels what is left at the
end of the step; at t = T−1 it liquidates its inventory by walking the book. With cash X_t,
inventory Q_t and H_t what liquidating Q_t would bring, its value is V_t = X_t + H_t and its
reward r_t = V_t − V_{t−1} − φ Q_t², so an episode's total reward is its final cash (φ = 0).
Tabular Q-learning (γ = 1) learns Q((time bucket, inventory bucket), (d_b, d_a)).

The rules, where the thesis leaves them open:

* **Exact continuous time.** In each step the next event comes after an Exp(R) wait, R the
  total rate, and is chosen with probability rate / R by one uniform: first the type (in the
  order of :data:`EVENT_TYPES`), then the level by cumulative rates. The event that would
  cross the end of the step is not executed.
* **Sizes.** Limit orders: geometric with P(k) ∝ e^{−0.5667 k}, redrawn until k ≤ L. Market
  orders: geometric with 0.4955, redrawn until no larger than the volume at the best price
  (the market maker's included): market orders never walk the book.
* **Empty side.** If the last unit of one side of the window goes, that side's best price
  moves to the first level beyond the window, L + 1 ticks from the opposite best price, which
  like every outside level holds ``outside_volume``. Both windows then lie inside the spread,
  so they are empty (the thesis code's "reset of both sides") and only limit orders can
  arrive until one of them lands inside the spread. A market maker's order whose price is
  pushed out of the window by a price move is forgotten with its level (cancelled).
* **The market maker's orders** sit in the book (they count for the market-order size and
  can make their price the best price) but are never cancelled by other traders: θ_i
  multiplies only the other traders' volume. At the end of a step the bid remainder is
  cancelled first, then the ask remainder.
* **Liquidation** at t = T−1 sells (buys) unit by unit at the best price, then at worse
  prices, ``outside_volume`` units per tick beyond the window; the book keeps what the walk
  did (if it walks past the window the book is left with that side empty). The valuation
  H_t walks the same book without changing it, so the last step's reward is exactly
  −φ·0 = 0 and V_T = X_T.
* **Starting book.** Unless a fixed :class:`Book` is given, a background book starts from
  :meth:`Book.simple` (spread 1, one unit on every level) and runs without the market maker
  for ``burn_in`` = 2,000 time units (≈ 9,500 events; the volumes 6…10 levels deep, which
  move only when the window shifts, need ≈ 1,000 to forget the simple book, the spread and
  the first five levels ≈ 50). The first episode starts from it; before each further
  episode (of one call of :func:`evaluate_policy` or :func:`q_learning`) the background
  book runs alone another ``start_gap`` = 10 time units (≈ 48 events). Episodes thus start
  from the chain's long-run behaviour; consecutive starting books share much of their
  volume, but the episodes' rewards are uncorrelated (lag-1…10 autocorrelations within
  ±0.02 over 20,000 episodes even with a gap of 2; see the tests).
  :func:`simulate_book` and :func:`simulate_episode` start right after the burn-in.
* **Buckets.** Time bucket ⌊t · num_time_buckets / T⌋; inventory bucket ⌈Q/κ⌉ (Q > 0),
  ⌊Q/κ⌋ (Q < 0), clipped to ±max_inventory_bucket. Action index (d_b − 1)·D + (d_a − 1).
* **Q-learning.** ε and α are constant within an episode; ε-greedy draws one uniform per
  decision (then a uniform action if exploring); greedy ties go to the lowest action
  index. The last decision (t = T−2) is updated with target r_{T−2}: the liquidation step
  that follows brings reward 0 by construction.

Prices, volumes, cash and values are integers; rewards are floats (exact integers when φ = 0).
Every random result takes a seed and draws from its own ``numpy`` Generator.

The subpackage has the same layout as :mod:`mmcourse.chan_shelton`:

==================  ==============================================================
``params``          :class:`LOBParams`, the event types
``book``            :class:`Book`, :func:`apply_event`, :func:`simulate_book`: the book alone
``policies``        :class:`ConstantPolicy`, :class:`RandomPolicy`, :class:`GreedyPolicy`
``simulation``      :class:`Episode`, :func:`simulate_episode`: one episode
``evaluation``      :func:`evaluate_policy`
``learning``        :func:`q_learning`, :func:`double_q_learning`, :func:`mc_control`,
                    :func:`tile_q_learning`
``experiment``      :func:`run_comparison`: independent runs against benchmarks, saved
``search``          :class:`RulePolicy`, :func:`cross_entropy_search`: policy search by the cross-entropy method
``reference``       the same model in plain per-event Python (tests and benchmarks)
``_kernels``        the compiled loops behind all of them
==================  ==============================================================

Everything public is available here: ``from mmcourse import lob`` then
``lob.evaluate_policy(lob.constant_policy(2), seed=1)``.
"""

from mmcourse.core.estimates import Estimate
from mmcourse.core.schedules import alpha_schedule, epsilon_schedule
from mmcourse.lob.book import Book, BookSimulation, apply_event, simulate_book
from mmcourse.lob.evaluation import evaluate_policies, evaluate_policy
from mmcourse.lob.experiment import ComparisonResult, default_benchmarks, run_comparison
from mmcourse.lob.learning import QLearningResult, double_q_learning, mc_control, q_learning, tile_q_learning
from mmcourse.lob.params import EVENT_TYPES, LOBParams
from mmcourse.lob.policies import ConstantPolicy, GreedyPolicy, RandomPolicy, constant_policy, random_policy
from mmcourse.lob.search import RULE_PARAMETERS, RulePolicy, SearchResult, cross_entropy_search
from mmcourse.lob.simulation import Episode, simulate_episode

__all__ = [
    "LOBParams", "EVENT_TYPES", "Book", "apply_event", "BookSimulation", "simulate_book",
    "ConstantPolicy", "RandomPolicy", "GreedyPolicy", "constant_policy", "random_policy",
    "Episode", "simulate_episode", "evaluate_policy", "evaluate_policies", "epsilon_schedule",
    "alpha_schedule",
    "QLearningResult", "q_learning", "double_q_learning", "mc_control", "tile_q_learning",
    "ComparisonResult", "run_comparison",
    "default_benchmarks", "Estimate",
    "RulePolicy", "SearchResult", "cross_entropy_search", "RULE_PARAMETERS",
]

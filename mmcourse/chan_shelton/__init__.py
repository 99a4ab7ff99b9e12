"""Part I: the Chan & Shelton (2001) market maker, its evaluation and learning.

One trading day has T steps and exactly one event per step: the fundamental price p* moves
up or down (probability λp each), an uninformed trader buys or sells (λu each), or an
informed trader arrives (λi) and buys if p*_t > m_{t−1}, sells if p*_t < m_{t−1}. The market
maker observes the order imbalance I_t (the orders since its last price change, excluding
this step's), moves its price by Δ_t = π(I_t) ∈ {−1, 0, +1}, and earns r_t = o_t · (m_t − p*_t)
on this step's order o_t. A policy's value v(π) is E[(1/T) Σ_t r_t].

The subpackage has the same layout as :mod:`mmcourse.lob`:

==================  ==============================================================
``params``          :class:`MarketParams`, the actions and the event names
``policies``        :class:`Policy`, :func:`threshold_policy`, :func:`greedy_policy`
``simulation``      :class:`Episode`, :func:`simulate_episode`: one day
``evaluation``      :func:`evaluate_policy`, state and state–action values, exact values
``learning``        :func:`policy_iteration`, :func:`sarsa`
``experiment``      :func:`sarsa_learning_curves`: many independent learners
``reference``       the same model in plain per-step Python (tests and benchmarks)
``_kernels``        the compiled loops behind all of them
==================  ==============================================================

Everything public is available here: ``from mmcourse import chan_shelton as cs`` then
``cs.evaluate_policy(cs.threshold_policy(2), seed=1)``.
"""

from mmcourse.chan_shelton.evaluation import (ExactValues, ValueTable, evaluate_policy, exact_policy_value,
                                              exact_values, state_action_values, state_values)
from mmcourse.chan_shelton.experiment import LearningCurves, sarsa_learning_curves
from mmcourse.chan_shelton.learning import PolicyIterationStep, SarsaResult, policy_iteration, sarsa
from mmcourse.chan_shelton.params import (ACTIONS, EVENT_NAMES, INFORMED, PRICE_DOWN, PRICE_UP, UNINFORMED_BUY,
                                          UNINFORMED_SELL, MarketParams)
from mmcourse.chan_shelton.policies import Policy, greedy_policy, q_table, threshold_policy
from mmcourse.chan_shelton.simulation import Episode, simulate_episode
from mmcourse.core.estimates import Estimate

__all__ = [
    "ACTIONS", "EVENT_NAMES", "PRICE_UP", "PRICE_DOWN", "UNINFORMED_BUY", "UNINFORMED_SELL",
    "INFORMED", "MarketParams", "Policy", "threshold_policy", "greedy_policy",
    "q_table", "Episode", "simulate_episode", "evaluate_policy", "state_values",
    "state_action_values", "ValueTable", "exact_values", "exact_policy_value", "ExactValues",
    "policy_iteration", "PolicyIterationStep", "sarsa", "SarsaResult", "sarsa_learning_curves",
    "LearningCurves", "Estimate",
]

"""mmcourse: the companion package of the course *Reinforcement learning for market making*.

=============================  ===========================================================
:mod:`mmcourse.chan_shelton`   Part I: the Chan & Shelton (2001) market maker, Monte-Carlo
                               evaluation, policy iteration, TD learning and SARSA
:mod:`mmcourse.lob`            Part II: a Markov-chain limit order book and tabular
                               Q-learning of the market maker's bid and ask depths
:mod:`mmcourse.core`           what both share: :class:`Estimate`, seeds, parallel runs,
                               schedules, parameter checks
:mod:`mmcourse.plotting`       the book's figure style and shared plots
=============================  ===========================================================

Both models have the same layout: ``params``, ``policies``, ``simulation``, ``evaluation``,
``learning``, ``experiment``, a plain-Python ``reference`` and the compiled ``_kernels``.
"""

from mmcourse.core.estimates import Estimate

__all__ = ["Estimate"]
__version__ = "0.2.0"

"""mmcourse: the companion package of the course *Reinforcement learning for market making*.

Part I, :mod:`mmcourse.chan_shelton`: the Chan & Shelton (2001) market maker, Monte-Carlo
policy evaluation, policy iteration, TD learning and SARSA.
Part II, :mod:`mmcourse.lob`: a Markov-chain limit order book and tabular Q-learning of
the market maker's bid and ask depths.
Shared pieces: :mod:`mmcourse.estimates` (Monte-Carlo estimates with confidence intervals).
"""

from mmcourse.estimates import Estimate

__all__ = ["Estimate"]
__version__ = "0.1.0"

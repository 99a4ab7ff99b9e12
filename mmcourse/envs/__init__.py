"""The course's two markets as gymnasium environments, for agents written against gymnasium.

- ``mmcourse/ChanShelton-v0``: :class:`ChanSheltonEnv`, the Chan & Shelton market maker of
  Part I; one episode is one trading day of T = 150 steps.
- ``mmcourse/LimitOrderBook-v0``: :class:`LimitOrderBookEnv`, the limit order book of
  Part II; one episode has T − 1 = 99 decisions.

Importing :mod:`mmcourse.envs` registers both ids with gymnasium (once, however often it is
imported), so ``gymnasium.make("mmcourse/ChanShelton-v0")`` works after ``import
mmcourse.envs``; keyword arguments of ``make`` go to the constructor, e.g.
``params=MarketParams(...)``. :class:`ChanSheltonEnv` draws the same random numbers as
:func:`mmcourse.chan_shelton.simulate_episode`: the same seed and policy give the same day.

The course's own evaluation and learning run the compiled loops of :mod:`mmcourse.chan_shelton`
and :mod:`mmcourse.lob`, which are much faster than stepping an environment from Python.
"""

from gymnasium.envs.registration import register, registry

from mmcourse.envs.chan_shelton import ChanSheltonEnv

from mmcourse.envs.lob import LimitOrderBookEnv

__all__ = ["ChanSheltonEnv", "LimitOrderBookEnv"]

# Entry points are strings, so gymnasium imports a class only when it is made. No
# max_episode_steps: every episode ends by itself (terminated=True) after its T steps, which
# params may change; a TimeLimit wrapper would also flag the natural end as truncated.
_ENVIRONMENTS = {
    "mmcourse/ChanShelton-v0": "mmcourse.envs.chan_shelton:ChanSheltonEnv",
    "mmcourse/LimitOrderBook-v0": "mmcourse.envs.lob:LimitOrderBookEnv",
}

for _id, _entry_point in _ENVIRONMENTS.items():
    if _id not in registry:      # re-importing (e.g. after clearing sys.modules) must not re-register
        register(id=_id, entry_point=_entry_point)

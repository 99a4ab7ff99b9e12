"""What both models share: Monte-Carlo estimates, seeds, parallel runs, schedules, checks.

* :mod:`~mmcourse.core.estimates`: :class:`Estimate`, a mean with its standard error and
  confidence interval;
* :mod:`~mmcourse.core.seeding`: :func:`make_rng` and :func:`spawn_generators`;
* :mod:`~mmcourse.core.parallel`: :func:`run_parallel`, independent runs on all cores;
* :mod:`~mmcourse.core.schedules`: :func:`epsilon_schedule` and :func:`alpha_schedule`;
* :mod:`~mmcourse.core.checks`: the parameter checks behind every ``ValueError``;
* ``_pcg64``: numpy's PCG64 stream drawn inside compiled loops.
"""

from mmcourse.core.estimates import Estimate
from mmcourse.core.parallel import default_workers, run_parallel
from mmcourse.core.schedules import alpha_schedule, epsilon_schedule
from mmcourse.core.seeding import make_rng, spawn_generators

__all__ = ["Estimate", "make_rng", "spawn_generators", "run_parallel", "default_workers",
           "epsilon_schedule", "alpha_schedule"]

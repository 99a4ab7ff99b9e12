"""Part II speed: the compiled limit-order-book package against the plain-Python reference.

Runs, in one process:
  (a) episodes of the constant (depth 2) market maker from one fixed starting book, in the
      package and in the reference (target: package at least 300x faster per episode);
  (b) the seed's whole experiment: 4 Q-learning runs x 3,000 training episodes, 300 test
      episodes per run and per benchmark (constant depths 1-5, random), on 2 threads
      (target: under 10 s of wall time);
  (c) book events per second of the compiled simulator, alone and inside episodes;
  (d) 4 runs x ``--long`` training episodes on 2 threads, extrapolated to 4 x 300,000.
Times in (a) and (c) are CPU seconds of this process (``time.process_time``), so other work
on the machine tilts the ratio less; (a) alternates package and reference in rounds and
reports the fastest and the median round of each, (c) the best of three runs; (b) and (d)
are wall seconds, since they use both cores. Compilation (or loading numba's on-disk cache)
is timed separately. Both sides give identical numbers, which the script checks first.

    python benchmarks/bench_lob.py [--episodes N] [--reference-episodes N] [--rounds N] [--long N]
"""

import argparse
import time

import numpy as np

from mmcourse import lob
from mmcourse.core import _pcg64
from mmcourse.lob import reference as ref
from mmcourse.lob._kernels import _run_alone
from mmcourse.lob.book import _scratch

from _timing import timed  # benchmarks/_timing.py


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=10_000)
    ap.add_argument("--reference-episodes", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=7, help="alternating timing rounds for (a)")
    ap.add_argument("--long", type=int, default=30_000, help="training episodes per run for (d)")
    args = ap.parse_args()
    params, policy = lob.LOBParams(), lob.constant_policy(2)

    def warm_up():
        lob.simulate_book(1.0, seed=0)
        lob.simulate_episode(policy, seed=0)
        lob.run_comparison(n_episodes=2, n_test_episodes=2, n_runs=2, seed=0)
    _, t_compile = timed(warm_up, clock=time.perf_counter)
    print(f"first calls (compilation or cache load): {t_compile:.2f} s wall")

    # (a) one episode, package against reference, from the same starting book and seed.
    # The machine's speed drifts (shared cores: the same Python work varies by ±20 %
    # between runs), so the two are timed in alternating rounds, and the ratio is given both
    # of the fastest runs and of the median ones.
    book = lob.simulate_book(1.0, seed=1).start_book
    n_ref = args.reference_episodes

    def reference():
        rng = np.random.default_rng(2)
        return [ref.play_episode(ref.RefBook(book), policy, params, ref.Rates(params), rng)
                for _ in range(n_ref)]
    out = reference()
    events = np.mean([sum(o["n_events"]) for o in out])
    check = lob.evaluate_policy(policy, params, n_ref, seed=2, start_book=book)
    assert np.array_equal(check.samples, [sum(o["reward"]) for o in out]), "package and reference disagree"
    t_py, t_pkg = [], []
    for _ in range(args.rounds):
        t_py.append(timed(reference)[1] / n_ref)
        est, t = timed(lob.evaluate_policy, policy, params, args.episodes, seed=2, start_book=book)
        t_pkg.append(t / args.episodes)
    per_pkg, per_py = min(t_pkg), min(t_py)
    med_pkg, med_py = np.median(t_pkg), np.median(t_py)
    print(f"(a) one episode of {params.T} steps, constant depth 2 (≈ {events:.0f} book events), "
          f"{args.rounds} alternating rounds")
    print(f"    fastest: package {per_pkg * 1e6:6.1f} µs   python {per_py * 1e3:5.2f} ms   "
          f"ratio {per_py / per_pkg:4.0f}x")
    print(f"    median:  package {med_pkg * 1e6:6.1f} µs   python {med_py * 1e3:5.2f} ms   "
          f"ratio {med_py / med_pkg:4.0f}x   (mean reward {est.mean:.3f} ± {est.stderr:.3f})")

    # (b) the seed's experiment
    res, t_wall = timed(lob.run_comparison, n_episodes=3000, n_test_episodes=300, n_runs=4, seed=2024,
                        n_workers=2, clock=time.perf_counter)
    print("(b) the seed's experiment: 4 runs x 3,000 training episodes + 300 test episodes per run,")
    print("    benchmarks constant depths 1-5 and random (300 episodes each), 2 threads")
    print(f"    wall {t_wall:.2f} s (+ {t_compile:.2f} s first calls)")
    print(res.summary().round(3).to_string(max_cols=None).replace("\n", "\n    ").join(["    ", ""]))

    # (c) events per second: the chain's own loop (the one episodes run, here without a
    # market maker), then simulate_book (which also integrates spread and volume statistics
    # at every event), then whole episodes
    def chain_alone(duration):
        top, vols = book._state()
        mm, cum, fills = _scratch(vols)
        with _pcg64.stream(np.random.default_rng(3)) as g:
            return _run_alone(g, params._model(), top, vols, mm, cum, duration, fills)
    n_chain, t_chain = timed(chain_alone, 200_000.0, repeat=3)
    sim, t_book = timed(lob.simulate_book, 200_000.0, seed=3, record_every=1000.0, repeat=3)
    print(f"(c) the book's event loop: {n_chain / t_chain / 1e6:.1f} million events/s "
          f"({t_chain / n_chain * 1e9:.0f} ns per event)")
    print(f"    simulate_book with its statistics: {sim.n_events / t_book / 1e6:.1f} million events/s "
          f"({t_book / sim.n_events * 1e9:.0f} ns per event; {sim.events_per_unit_time:.3f} events per unit time)")
    print(f"    whole episodes (a): {events / per_pkg / 1e6:.1f} million events/s "
          f"({per_pkg / events * 1e9:.0f} ns per event, market maker and bookkeeping included)")

    # (d) the chapter-size training, extrapolated
    n = args.long
    _, t_long = timed(lob.run_comparison, n_episodes=n, n_test_episodes=2, n_runs=4, seed=5, benchmarks=[],
                      n_workers=2, clock=time.perf_counter)
    print(f"(d) 4 runs x {n:,} training episodes on 2 threads: {t_long:.2f} s wall; "
          f"4 x 300,000 would take ≈ {t_long * 300_000 / n:.0f} s")


if __name__ == "__main__":
    main()

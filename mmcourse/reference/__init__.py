"""Straightforward per-step pure-Python implementations of the course's models.

They follow the text line by line, with Python ints and lists and no compilation.  The tests
check that the compiled package gives identical results from the same seed, and the
benchmarks in ``benchmarks/`` time them against the package.
"""

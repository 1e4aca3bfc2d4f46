"""Benchmarks that print figures (cold import per Lambda, AWS calls per order), not tests.

``make bench`` (``python -m bench.run``) runs them all and writes bench/RESULTS.md.
"""

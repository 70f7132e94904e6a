"""Benchmarks of the suite against floors measured in the same run: ``make bench``.

Every figure is a ratio to a floor taken on the same machine, minutes apart, so the numbers
say how much our infrastructure costs rather than how fast this machine happens to be.
"""

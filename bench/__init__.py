"""Benchmarks of the suite against floors measured in the same run: ``make bench``.

Throughput figures are ratios to a floor taken on the same machine, minutes apart, so the
numbers say how much our infrastructure costs rather than how fast this machine happens to be;
latency figures (events, webhooks, the candidate's view, analytics) are bounds.
"""

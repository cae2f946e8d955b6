"""Real protocol peers run on loopback (or in a network namespace) while a capture records them.

Reusable by the dissector tests and by end-to-end tests of the whole pipeline: each module offers a
context manager or function that leaves a pcap behind (``capture.capture``).
"""

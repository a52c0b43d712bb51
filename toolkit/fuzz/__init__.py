"""Fuzzing the toolkit's readers: mutate real captures, run each in a bounded child, keep what breaks.

Nothing in the library imports this package; it is for ``make fuzz`` and the test suite, and for
anyone who wants to fuzz a reader with their own captures as seeds (``python -m toolkit.fuzz``).
"""

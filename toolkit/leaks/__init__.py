"""Leak detection: did a visited URL, a search term or an identifier leave the device, and how?

>>> import toolkit
>>> from toolkit.leaks import find_leaks
>>> leaks = find_leaks(toolkit.load("data/sample.har"), identifiers=["ANDROID_ID=9774d56d682e549c"])
>>> leaks.groupby("needle_kind", observed=True).size().to_dict()
{'identifier': 6, 'url': 6}
"""

from toolkit.leaks.detect import find_leaks

__all__ = ["find_leaks"]

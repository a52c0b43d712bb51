"""The toolkit's own version, as installed (light: the command line's ``--version`` needs only this).

>>> from toolkit.version import toolkit_version
>>> isinstance(toolkit_version(), str)
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["toolkit_version"]


def toolkit_version() -> str:
    """The installed toolkit's version (``"0+unknown"`` when run from a bare source tree)."""
    try:
        return version("toolkit")
    except PackageNotFoundError:
        return "0+unknown"

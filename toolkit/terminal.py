"""Text for a terminal: what a capture wrote (a HAR creator name, a host, a file name) cannot
drive the terminal that shows it.

A capture decides every byte of the names and messages the command line prints. Escape
sequences in them could set the window title (OSC), clear the screen or move the cursor (CSI),
and bidirectional overrides can make text read differently from what it is. :func:`for_terminal`
removes escape sequences whole and shows any other control character as ``?``: C0 and C1
controls, DEL, bidirectional embeddings, overrides and isolates, line and paragraph separators.

>>> for_terminal("Fiddler\\x1b]0;pwned\\x07 \\x1b[2J\\x1b[31mred\\x1b[0m")
'Fiddler red'
>>> for_terminal("evil\\u202etxt.exe\\x85\\x00", one_line=True)
'evil?txt.exe??'
>>> for_terminal("two\\nlines\\r"), for_terminal("two\\nlines\\r", one_line=True)
('two\\nlines?', 'two lines?')
"""

from __future__ import annotations

import re

__all__ = ["for_terminal"]

# ECMA-48: CSI (ESC [ or the C1 byte 0x9b) parameters, intermediates, a final byte; OSC, DCS, SOS,
# PM and APC strings (ESC ] P X ^ _, or their C1 forms) up to BEL or ST; any other ESC and one char.
_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\n\t]")


def for_terminal(text: object, *, one_line: bool = False) -> str:
    """``text`` (made a string) safe to print: no escape sequence, no control character but
    newline and tab (with ``one_line``, those become spaces too)."""
    out = _CONTROL.sub("?", _ESCAPE.sub("", str(text)))
    return _LINE_BREAKS.sub(" ", out) if one_line else out

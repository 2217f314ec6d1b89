"""Untrusted text made safe to show: names, labels, paths and messages from files.

``visible(text)`` returns ``text`` with every character a terminal would act
on made visible instead: C0 controls and DEL become their Unicode control
pictures (``\\x1b`` → ``␛``, a newline → ``␊``), any other non-printable
character (C1 controls such as the 8-bit CSI ``\\x9b``, bidirectional
overrides, zero-width characters, unassigned code points) its ``\\uXXXX``
escape.  Printable text comes back unchanged, so it costs nothing where
nothing is wrong.  ``has_controls(text)`` says whether ``visible`` would
change it (used to refuse such names).

Every output path (CLI and lab) shows a string from a preset, a data file, a
name or a path through ``visible`` and as plain text, never as Rich markup.
Standard library only.
"""

from __future__ import annotations

_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}
_PICTURES[0x7F] = "\u2421"


def has_controls(text: str) -> bool:
    """True when ``text`` holds a character that is not printable (space is)."""
    return not text.isprintable()


def visible(text: str) -> str:
    """``text`` with control and other non-printable characters made visible."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
            continue
        code = ord(ch)
        picture = _PICTURES.get(code)
        if picture is not None:
            out.append(picture)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)

"""Syntax highlighting of the sweep definition (TOML): sections, keys, strings, numbers, comments."""

from __future__ import annotations

import re

from PySide6 import QtGui

from studio import theme

# one pattern per kind of token; strings are applied after numbers (a digit inside a string stays a
# string), and a comment starts only at a "#" outside a string (_comment_start)
_SECTION = re.compile(r"^\s*\[\[?[^\]]*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\-\"']+)\s*(?==)|(?<=[{,])\s*([A-Za-z0-9_\-]+)\s*(?==)")
_NUMBER = re.compile(r"(?<![\w.])[+-]?(?:\d[\d_]*)(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])|\b(?:inf|nan)\b")
_BOOL = re.compile(r"\b(?:true|false)\b")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?|\'[^\']*\'?')


def _comment_start(text: str) -> int:
    """Where a comment starts in a line (-1 if none): the first ``#`` outside a string."""
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            return i
        i += 1
    return -1


def _format(colour: str, bold: bool = False, italic: bool = False) -> QtGui.QTextCharFormat:
    f = QtGui.QTextCharFormat()
    f.setForeground(QtGui.QColor(colour))
    if bold:
        f.setFontWeight(QtGui.QFont.Weight.Bold)
    f.setFontItalic(italic)
    return f


class TomlHighlighter(QtGui.QSyntaxHighlighter):
    """Colours a TOML document line by line with the theme's series colours (Okabe-Ito) and muted
    text for comments: ``[section]`` bold blue, keys vermillion, strings green, numbers and
    booleans purple, ``# comments`` grey italic."""

    def __init__(self, document: QtGui.QTextDocument):
        super().__init__(document)
        t = theme.current()
        self.formats = {
            "section": _format(theme.OKABE_ITO[0], bold=True),
            "key": _format(theme.OKABE_ITO[5]),
            "string": _format(theme.OKABE_ITO[2]),
            "number": _format(theme.OKABE_ITO[3]),
            "comment": _format(t.muted, italic=True),
        }

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt API
        end = _comment_start(text)
        code = text if end < 0 else text[:end]
        m = _SECTION.match(code)
        if m:
            self.setFormat(m.start(), m.end() - m.start(), self.formats["section"])
        else:
            for m in _KEY.finditer(code):
                g = 1 if m.group(1) else 2
                self.setFormat(m.start(g), m.end(g) - m.start(g), self.formats["key"])
            for pattern, name in ((_NUMBER, "number"), (_BOOL, "number"), (_STRING, "string")):
                for m in pattern.finditer(code):
                    self.setFormat(m.start(), m.end() - m.start(), self.formats[name])
        if end >= 0:
            self.setFormat(end, len(text) - end, self.formats["comment"])

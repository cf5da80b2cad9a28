"""The Parameters tab: what a kind of point takes (defaults, meaning) and the metrics it reports."""

from __future__ import annotations

import html

from PySide6 import QtWidgets

from engines.sweep.kinds import get_kind


class KindHelp(QtWidgets.QTextBrowser):
    """Lists the parameters (with defaults) and metrics of a kind."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("SweepKindHelp")

    def show_kind(self, kind: str) -> None:
        try:
            k = get_kind(kind)
        except ValueError as e:
            self.setHtml(f"<p>{html.escape(str(e))}</p>")
            return
        rows = "".join(
            f"<tr><td><tt>{html.escape(p)}</tt></td><td><tt>{html.escape(repr(v))}</tt></td>"
            f"<td>{html.escape(k.docs.get(p, ''))}</td></tr>"
            for p, v in k.defaults.items()
        )
        self.setHtml(
            f'<h3>{html.escape(k.title)} (<tt>kind = "{kind}"</tt>)</h3>'
            f"<p><b>Metrics:</b> {', '.join(k.metrics)}</p>"
            "<p>Any parameter below may go in <tt>[fixed]</tt>, <tt>[grid]</tt> or "
            "<tt>[sample.ranges]</tt>; the others keep their default.</p>"
            f"<table cellspacing=4><tr><th align=left>parameter</th><th align=left>default</th>"
            f"<th align=left>meaning</th></tr>{rows}</table>"
        )

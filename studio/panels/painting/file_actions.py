"""The painting panel's file actions: paint a reference image, open and save JSON, export PNG and SVG.

A mixin of :class:`studio.panels.painting.panel.PaintingPanel`: files are read here (a bad one is a
message in the banner, the painting is kept) and written on the engine's worker; the futures
returned let scripts and tests wait for the file.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

from studio.runner import RunnerState


class FileActions:
    """Needs ``runner``, ``show_error``, ``_edit`` and ``_start_job`` from the panel."""

    def paint_reference(self, path: str | Path) -> bool:
        from engines.painting.io import load_image

        try:
            img = load_image(path, size=256)
        except (ValueError, OSError) as e:
            self.show_error(str(e))
            return False
        return self._start_job("reference", lambda e: e.decompose_job(img))

    def cancel(self) -> None:
        if self.runner is not None and self.runner.state == RunnerState.JOB:
            self.runner.cancel_job()

    def open_json(self, path: str | Path) -> bool:
        from engines.painting.io import load_painting

        try:
            doc = load_painting(path)
        except (ValueError, OSError) as e:
            self.show_error(str(e))  # the current painting is kept
            return False
        self._edit(lambda e: e.load_document(doc))
        return True

    def save_json(self, path: str | Path) -> concurrent.futures.Future | None:
        from engines.painting.io import save_json

        return self._edit(lambda e: save_json(e, path))

    def export_png(self, path: str | Path, size: int = 1024) -> concurrent.futures.Future | None:
        from engines.painting.io import export_png

        return self._edit(lambda e: export_png(e, path, size))

    def export_svg(self, path: str | Path, size: int = 1024) -> concurrent.futures.Future | None:
        from engines.painting.io import export_svg

        return self._edit(lambda e: export_svg(e, path, size))


__all__ = ["FileActions"]

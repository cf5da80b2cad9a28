"""The page's stroke maths (web/src/strokes.js, run by node) against the studio's Python.

A drag becomes the same strokes as ``drag_to_strokes``; the paint order is the same sort by (clock,
author, id) with strings in code-point order; a name gets the studio's colour. Needs only node (the
module imports nothing); skipped, saying why, where node is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engines.painting.strokes import drag_to_strokes
from studio.widgets.collab import PEER_COLOURS, colour_for

STROKES_JS = Path(__file__).resolve().parents[3] / "web" / "src" / "strokes.js"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def _node(expr: str, data) -> object:
    script = f"import * as S from {json.dumps(STROKES_JS.as_uri())};\nconst data = {json.dumps(data)};\n"
    script += f"console.log(JSON.stringify({expr}))"
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(out.stdout)


def test_a_drag_becomes_the_same_strokes_as_in_the_studio():
    rng = np.random.default_rng(3)
    cases = []
    for n, size in ((40, 0.03), (7, 0.2), (3, 0.001), (1, 0.05), (5, 0.08)):
        pts = np.cumsum(rng.normal(0, 0.02, (n, 2)), axis=0) + 0.5
        if n == 5:
            pts[:] = pts[0] + rng.normal(0, 0.001, (n, 2))  # a click that hardly moved: one dab
        cases.append({"points": pts.tolist(), "size": size, "colour": rng.uniform(0, 1, 3).tolist()})
    got = _node("data.map((c) => S.dragToStrokes(c.points, c.size, c.colour))", cases)
    for case, js in zip(cases, got):
        want = drag_to_strokes(case["points"], case["size"], case["colour"])
        assert np.asarray(js).shape == want.shape
        # the studio's strokes are float32; the page keeps float64
        np.testing.assert_allclose(np.asarray(js, np.float32), want, rtol=0, atol=2e-7)


def test_paint_order_and_names_colours_match_the_studio():
    values = [
        [sid, author, clock]
        for sid, author, clock in [
            ("b", "ada", 3),
            ("a", "ada", 3),
            ("z", "Ada", 3),
            ("\U0001f600x", "ada", 2),
            ("\uffffx", "ada", 2),
            ("c", "bob", 1),
            ("c2", "bob", 10),
        ]
    ]
    got = _node("data.slice().sort(S.cmpStroke).map((v) => v[0])", values)
    assert got == [v[0] for v in sorted(values, key=lambda v: (v[2], v[1], v[0]))]
    names = ["Ada", "Grace", "Lin", "host", "学生", "\U0001f600 emoji", "x" * 40]
    assert _node("S.PEER_COLOURS", None) == list(PEER_COLOURS)
    assert _node("data.map(S.colourFor)", names) == [colour_for(n) for n in names]

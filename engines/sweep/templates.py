"""Starting definitions for a sweep of each kind: the shipped example, else one built from the defaults."""

from __future__ import annotations

from pathlib import Path

from engines.sweep.kinds import get_kind

__all__ = ["EXAMPLES", "STUDIO_DEMO", "TEMPLATES", "demo_text", "template_text"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sweeps"
TEMPLATES = {
    "demo": "demo.toml",
    "spiking": "coba_ei.toml",
    "routing": "cvrp_solvers.toml",
    "geometry": "geometry_eps.toml",
    "spiking-geometry": "spiking_geometry_lr.toml",
}

#: the studio's first-launch demo: long enough (10-20 s) to watch the heat map fill in
STUDIO_DEMO = "demo_live.toml"


def demo_text() -> str:
    """The definition of the studio's first-launch demo sweep."""
    return (EXAMPLES / STUDIO_DEMO).read_text()


def template_text(kind: str) -> str:
    """A starting definition for ``kind``: the shipped example, else one sweeping its first two
    float parameters over half, once and one and a half times their default (2 seeds).
    An unknown kind raises ``ValueError`` naming it."""
    name = TEMPLATES.get(kind)
    if name and (EXAMPLES / name).exists():
        return (EXAMPLES / name).read_text()
    k = get_kind(kind)
    numeric = [p for p, v in k.defaults.items() if isinstance(v, float)][:2]
    lines = ["[sweep]", f'name = "{kind}-sweep"', f'kind = "{kind}"', "seeds = 2", "", "[grid]"]
    for p in numeric:
        v = k.defaults[p] or 1.0
        lines.append(f"{p} = [{v * 0.5!r}, {v!r}, {v * 1.5!r}]")
    return "\n".join(lines) + "\n"

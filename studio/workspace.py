"""Workspace files: every panel's parameters, view state and engine state in one file.

A workspace is a zip file (``.nsw``) holding ``workspace.json`` and one ``.npy``
member per array of the engines' state dicts (no pickle: a file cannot run
code). Reading is forgiving per panel: a corrupt or foreign entry is reported
by name and the other panels still load; panels this studio does not know are
kept as they are and written back on save, so nothing is lost.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engines import serialize
from engines.serialize import FormatError

FORMAT = "neural-studio-workspace"
VERSION = 1
SUFFIX = ".nsw"


@dataclass
class PanelEntry:
    """What a workspace holds for one panel."""

    name: str
    engine: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    panel_state: dict[str, Any] = field(default_factory=dict)
    state: Any = None
    # raw form, to write back untouched when the panel is unknown here
    raw_tree: Any = None
    raw_arrays: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Workspace:
    current_panel: str | None = None
    panels: dict[str, PanelEntry] = field(default_factory=dict)
    version: int = VERSION
    problems: list[str] = field(default_factory=list)


def save(path: str | os.PathLike, ws: Workspace, app_version: str = "") -> None:
    """Write ``ws`` atomically (temporary file, then rename)."""
    members: dict[str, bytes] = {}
    panels_json: dict[str, Any] = {}
    for i, (name, entry) in enumerate(ws.panels.items()):
        if entry.raw_tree is not None and entry.state is None:
            panels_json[name] = entry.raw_tree
            for key, data in entry.raw_arrays.items():
                members[f"arrays/{key}.npy"] = data
            continue
        tree, arrays = serialize.pack(entry.state, prefix=f"p{i}_")
        panels_json[name] = {
            "engine": entry.engine,
            "params": entry.params,
            "panel_state": entry.panel_state,
            "state": tree,
        }
        for key, a in arrays.items():
            members[f"arrays/{key}.npy"] = serialize.array_bytes(a)
    head = {
        "format": FORMAT,
        "version": VERSION,
        "app_version": app_version,
        "current_panel": ws.current_panel,
        "panels": panels_json,
    }
    members = {"workspace.json": json.dumps(head, indent=1).encode(), **members}
    serialize.write_zip(path, members)


class _Budget:
    """The bytes of arrays one workspace may make us read (all panels together)."""

    def __init__(self, where: str, limit: int = serialize.MAX_ARCHIVE_BYTES) -> None:
        self.where, self.left = where, limit

    def take(self, zf: zipfile.ZipFile, member: str) -> None:
        self.left -= zf.getinfo(member).file_size
        if self.left < 0:
            raise FormatError(
                f"{self.where}: its arrays hold more than the {serialize.MAX_ARCHIVE_BYTES} bytes allowed"
            )


def load(path: str | os.PathLike, known_panels: set[str] | None = None) -> Workspace:
    """Read a workspace. Raises FormatError (naming the file) when nothing can be read;
    otherwise per-panel problems are listed in ``Workspace.problems``."""
    path = Path(path)
    try:
        zf = serialize.open_zip(path, what="Neural Studio workspace (not a zip archive)")
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    with zf:
        try:
            raw = serialize.read_member(zf, "workspace.json", str(path))
        except KeyError:
            raise FormatError(f"{path}: not a Neural Studio workspace (workspace.json is missing)") from None
        head = serialize.parse_json_bounded(raw, f"{path}: workspace.json is corrupt")
        if not isinstance(head, dict) or head.get("format") != FORMAT:
            raise FormatError(
                f"{path}: not a Neural Studio workspace (format field is {head.get('format')!r})"
                if isinstance(head, dict)
                else f"{path}: workspace.json is not an object"
            )
        ws = Workspace()
        version = head.get("version", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise FormatError(f"{path}: field 'version' is not a number (got {str(version)[:40]!r})")
        ws.version = version
        if ws.version > VERSION:
            ws.problems.append(
                f"{path.name} was written by a newer Neural Studio (workspace format {ws.version}, "
                f"this one reads {VERSION}); loading what can be read"
            )
        cur = head.get("current_panel")
        ws.current_panel = cur if isinstance(cur, str) else None
        panels = head.get("panels", {})
        if not isinstance(panels, dict):
            raise FormatError(f"{path}: field 'panels' is not an object")
        names = set(zf.namelist())
        budget = _Budget(str(path))
        for name, entry_json in panels.items():
            if known_panels is not None and name not in known_panels:
                keys = serialize.array_keys(entry_json)
                raw = {}
                for k in keys:
                    member = f"arrays/{k}.npy"
                    if member in names:
                        budget.take(zf, member)
                        raw[k] = serialize.read_member(
                            zf,
                            member,
                            str(path),
                            max_bytes=serialize.MAX_ARRAY_BYTES + serialize.MAX_NPY_HEADER,
                        )
                ws.panels[name] = PanelEntry(name=name, raw_tree=entry_json, raw_arrays=raw)
                ws.problems.append(f"{path.name}: panel {name!r} is not available in this studio; kept as is")
                continue
            try:
                if not isinstance(entry_json, dict):
                    raise FormatError("entry is not an object")
                params = entry_json.get("params", {})
                if not isinstance(params, dict):
                    raise FormatError("field 'params' is not an object")
                pstate = entry_json.get("panel_state", {})
                if not isinstance(pstate, dict):
                    raise FormatError("field 'panel_state' is not an object")
                tree = entry_json.get("state")
                arrays: dict[str, np.ndarray] = {}
                for k in serialize.array_keys(tree):
                    member = f"arrays/{k}.npy"
                    if member not in names:
                        raise FormatError(f"array member {member} is missing")
                    if k not in arrays:
                        budget.take(zf, member)
                        arrays[k] = serialize.read_array(zf, member, str(path))
                state = serialize.unpack(tree, arrays)
            except FormatError as e:
                ws.problems.append(f"{path.name}: panel {name!r}: {e}")
                continue
            ws.panels[name] = PanelEntry(
                name=name,
                engine=str(entry_json.get("engine", "")),
                params=params,
                panel_state=pstate,
                state=state,
            )
        return ws

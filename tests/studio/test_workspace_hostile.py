"""Workspace files that are hostile or damaged: refused with FormatError naming them, or loaded per panel.

No Qt here: studio.workspace is plain Python.
"""

import json
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings

from engines.serialize import FormatError
from studio import workspace as wsmod
from tests.engines.test_serialize_hostile import npy_header
from tests.fuzz import FUZZ, check_loader, hostile_zips


def _members(tmp_path) -> dict[str, bytes]:
    ws = wsmod.Workspace(current_panel="toy")
    ws.panels["toy"] = wsmod.PanelEntry(
        name="toy",
        engine="toy",
        params={"n_walkers": 3},
        panel_state={"zoom": 2},
        state={"x": np.arange(6.0), "steps": 4, "nested": {"ids": np.array([1, 2], np.int32)}},
    )
    ws.panels["spare"] = wsmod.PanelEntry(name="spare", engine="toy", state={"y": np.ones((2, 2))})
    f = tmp_path / "seed.nsw"
    wsmod.save(f, ws)
    with zipfile.ZipFile(f) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_workspace_json_nested_100000_deep_is_refused_naming_the_file(tmp_path):
    f = tmp_path / "deep.nsw"
    _zip(f, {"workspace.json": "[" * 100_000})
    with pytest.raises(FormatError, match=r"deep.nsw: workspace.json is corrupt: nested 100000 levels deep"):
        wsmod.load(f)


def test_an_array_member_claiming_1e15_values_spoils_only_its_panel(tmp_path):
    members = _members(tmp_path)
    head = json.loads(members["workspace.json"])
    key = head["panels"]["toy"]["state"]["x"]["__ndarray__"]
    members[f"arrays/{key}.npy"] = npy_header(
        {"descr": "<f8", "fortran_order": False, "shape": (10**15,)}
    ) + bytes(8)
    f = tmp_path / "huge.nsw"
    _zip(f, members)
    ws = wsmod.load(f, known_panels={"toy", "spare"})
    assert "toy" not in ws.panels and "spare" in ws.panels
    assert any("huge.nsw: panel 'toy'" in p and "claims shape (1000000000000000,)" in p for p in ws.problems)


@pytest.mark.parametrize("version", ["Infinity", "NaN", '"1"', "true", "1e400"])
def test_a_version_that_is_not_an_integer_is_refused(tmp_path, version):
    f = tmp_path / "v.nsw"
    _zip(f, {"workspace.json": f'{{"format": "{wsmod.FORMAT}", "version": {version}, "panels": {{}}}}'})
    with pytest.raises(FormatError, match="v.nsw: field 'version' is not a number"):
        wsmod.load(f)


def test_malformed_state_trees_are_reported_per_panel(tmp_path):
    panels = {
        "a": {"state": {"t": {"__tuple__": 5}}},
        "b": {"state": {"x": {"__ndarray__": ["not", "a", "key"]}}},
        "c": {"state": {"x": {"__ndarray__": "missing"}}},
        "ok": {"state": {"n": 1}},
    }
    f = tmp_path / "trees.nsw"
    _zip(f, {"workspace.json": json.dumps({"format": wsmod.FORMAT, "version": 1, "panels": panels})})
    ws = wsmod.load(f, known_panels=set(panels))
    assert set(ws.panels) == {"ok"} and len(ws.problems) == 3


def test_folders_and_random_files_are_refused(tmp_path):
    with pytest.raises(FormatError, match="is a folder"):
        wsmod.load(tmp_path)
    f = tmp_path / "rnd.nsw"
    f.write_bytes(np.random.default_rng(0).bytes(3000))
    with pytest.raises(FormatError, match="rnd.nsw: not a Neural Studio workspace"):
        wsmod.load(f)


def test_fuzzed_workspaces_load_or_are_refused_and_the_file_is_untouched(tmp_path):
    members = _members(tmp_path)

    @settings(FUZZ, max_examples=1500)
    @given(data=hostile_zips(members))
    def run(data):
        ws = check_loader(lambda p: wsmod.load(p, known_panels={"toy"}), tmp_path / "fuzz.nsw", data)
        if ws is not None:
            for entry in ws.panels.values():
                assert isinstance(entry.params, dict) and isinstance(entry.panel_state, dict)

    run()

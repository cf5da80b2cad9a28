"""Starting definitions per kind, and the definition text checked without an engine (no Qt)."""

from __future__ import annotations

import pytest

from engines.sweep.io import read_sweep_text, write_sweep_text
from engines.sweep.kinds import kind_names
from engines.sweep.model import SweepError, sweep_from_text
from engines.sweep.templates import EXAMPLES, TEMPLATES, template_text


def test_the_shipped_examples_are_the_templates_of_their_kinds():
    assert (EXAMPLES / TEMPLATES["demo"]).exists()
    assert template_text("demo") == (EXAMPLES / "demo.toml").read_text()


def test_templates_of_every_kind_parse_as_that_kind():
    for kind in kind_names():
        try:
            spec = sweep_from_text(template_text(kind), f"<{kind}>")
        except ValueError as e:  # a kind whose data is missing here (routing instances)
            assert "not found" in str(e), e
            continue
        assert spec.kind == kind


def test_a_kind_without_an_example_gets_a_grid_over_its_float_defaults(monkeypatch):
    monkeypatch.setitem(TEMPLATES, "demo", "no-such-file.toml")
    text = template_text("demo")
    spec = sweep_from_text(text, "<demo>")
    assert spec.kind == "demo" and spec.name == "demo-sweep"
    assert "seeds = 2" in text and spec.n_points() == 2 * 3 * 3


def test_an_unknown_kind_is_refused_by_name():
    with pytest.raises(ValueError, match="nosuchkind"):
        template_text("nosuchkind")


def test_text_from_a_file_takes_the_file_stem_as_default_name():
    text = "[sweep]\nkind = 'demo'\n[grid]\nx = [0.0, 1.0]\n"
    assert sweep_from_text(text, "/tmp/my_sweep.toml").name == "my_sweep"
    assert sweep_from_text(text).name == "sweep"


def test_a_bad_definition_names_the_source_and_the_field():
    with pytest.raises(SweepError, match=r"<editor>.*\[grid\] zz"):
        sweep_from_text("[sweep]\nkind = 'demo'\n[grid]\nzz = [1.0]\n", "<editor>")


def test_sweep_text_round_trips_through_a_file(tmp_path):
    p = tmp_path / "s.toml"
    write_sweep_text(p, template_text("demo"))
    assert read_sweep_text(p) == template_text("demo")


def test_a_missing_sweep_file_is_a_sweep_error_starting_with_its_path(tmp_path):
    p = tmp_path / "missing.toml"
    with pytest.raises(SweepError) as e:
        read_sweep_text(p)
    assert str(e.value).startswith(str(p))

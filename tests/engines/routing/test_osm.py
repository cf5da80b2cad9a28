"""OpenStreetMap driving graphs: one-way streets, speeds, matrices, geometry."""

import numpy as np
import pytest

from engines.routing.io import read_npz, write_npz
from engines.routing.osm import _haversine_km, osm_problem, parse_maxspeed, read_road_graph

XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
 <node id="1" lat="60.0000" lon="24.0000" version="1"/>
 <node id="2" lat="60.0000" lon="24.0100" version="1"/>
 <node id="3" lat="60.0050" lon="24.0100" version="1"/>
 <node id="4" lat="60.0100" lon="24.0100" version="1"/>
 <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
  <tag k="highway" v="primary"/><tag k="oneway" v="yes"/><tag k="maxspeed" v="60"/></way>
 <way id="11" version="1"><nd ref="3"/><nd ref="1"/><tag k="highway" v="residential"/></way>
 <way id="12" version="1"><nd ref="3"/><nd ref="4"/><tag k="highway" v="footway"/></way>
</osm>
"""


def test_parse_maxspeed():
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("50;30") == 30
    assert parse_maxspeed("FI:urban") is None and parse_maxspeed(None) is None


def test_one_way_streets_and_speeds(tmp_path):
    f = tmp_path / "tiny.osm"
    f.write_text(XML)
    g = read_road_graph(f)
    assert g.n == 3  # the footway's node 4 is not part of the driving graph
    pairs = set(zip(g.src.tolist(), g.dst.tolist()))
    assert (0, 1) in pairs and (1, 0) not in pairs  # one-way primary
    assert (2, 0) in pairs and (0, 2) in pairs  # two-way residential
    p = osm_problem(f, n_points=3, seed=0, graph=g)
    ab = _haversine_km(60.0, 24.0, 60.0, 24.01)
    bc = _haversine_km(60.0, 24.01, 60.005, 24.01)
    ca = _haversine_km(60.005, 24.01, 60.0, 24.0)
    node = {int(v): i for i, v in enumerate(p.roads.point_node)}
    a, b, c = node[0], node[1], node[2]
    assert p.distance[a, b] == pytest.approx(ab)
    assert p.distance[b, a] == pytest.approx(bc + ca)  # must go round the one-way loop
    assert p.duration[a, b] == pytest.approx(ab / 60 * 60)  # maxspeed 60 km/h, minutes
    assert p.duration[c, a] == pytest.approx(ca / 30 * 60)  # residential default 30 km/h
    line = p.roads.leg(b, a)
    assert len(line) == 3  # b -> c -> a along the streets


def test_helsinki_instance(data_dir, tmp_path):
    pbf = data_dir / "osm" / "Helsinki.osm.pbf"
    p = osm_problem(pbf, n_points=40, seed=0)
    assert p.variant == "ATSP" and p.n == 40
    assert (np.abs(p.distance - p.distance.T) > 1e-9).mean() > 0.5
    assert np.all(p.duration[~np.eye(40, dtype=bool)] > 0)
    # street geometry of every leg has the matrix length
    for i, j in [(0, 1), (5, 3), (39, 0)]:
        line = p.roads.leg(i, j)
        seg = _haversine_km(line[:-1, 1], line[:-1, 0], line[1:, 1], line[1:, 0]).sum()
        assert seg == pytest.approx(p.distance[i, j], rel=1e-9, abs=1e-9)
    write_npz(tmp_path / "h.npz", p)
    q = read_npz(tmp_path / "h.npz")
    np.testing.assert_array_equal(q.distance, p.distance)
    assert q.roads is not None and len(q.roads.route_line([1, 2])) >= 3
    # seeded: same points again
    assert np.array_equal(osm_problem(pbf, n_points=40, seed=0).distance, p.distance)


def test_not_a_pbf(tmp_path):
    from engines.serialize import FormatError

    f = tmp_path / "x.osm.pbf"
    f.write_bytes(b"garbage" * 10)
    with pytest.raises(FormatError, match="x.osm.pbf"):
        read_road_graph(f)

"""The others' presence, read defensively (any Yjs client may publish anything), and my drag as a message."""

from engines.collab import SessionStatus
from engines.collab.presence import (
    DRAG_POINTS,
    drag_message,
    locked_names,
    peer_cursors,
    peer_drags,
    peer_names,
)


def _status(peers: dict) -> SessionStatus:
    return SessionStatus("online", None, peers, "ws://127.0.0.1:1", "lab", "t", False, 0)


def test_names_cursors_and_locks_of_well_formed_peers():
    st = _status(
        {
            1: {"name": "Zoe", "colour": "#112233", "cursor": [0.25, 0.5], "locked": True},
            2: {"name": "Bob" * 20, "cursor": [0.1, "x"]},  # a bad cursor, a long name
            3: "not a dict",
            4: {"name": "Ann", "locked": "yes"},
        }
    )
    assert peer_names(st) == [("Ann", "#888888"), (("Bob" * 20)[:40], "#888888"), ("Zoe", "#112233")]
    assert peer_cursors(st) == [("Zoe", "#112233", 0.25, 0.5)]
    assert locked_names(st) == frozenset({"Zoe"})


def test_drags_keep_only_pairs_of_numbers_a_sane_size_and_a_bounded_path():
    long = [[0.001 * i, 0.5] for i in range(5 * DRAG_POINTS)]
    st = _status(
        {
            1: {
                "drag": {
                    "points": [[0.1, 0.2], [0.3], "x", [0.4, 0.5]],
                    "colour": "#ff0000" * 4,
                    "size": 0.05,
                }
            },
            2: {"drag": {"points": [[0.1, 0.2]], "colour": "#00ff00", "size": 5.0}},  # too big
            3: {"drag": {"points": "nope", "colour": "#00ff00", "size": 0.1}},
            4: {"drag": {"points": long, "colour": "#0000ff", "size": 0.1}},
        }
    )
    drags = peer_drags(st)
    assert drags[0] == (("#ff0000" * 4)[:16], 0.05, [(0.1, 0.2), (0.4, 0.5)])
    assert len(drags) == 2 and drags[1][0] == "#0000ff" and len(drags[1][2]) == 2 * DRAG_POINTS


def test_my_drag_is_thinned_evenly_to_the_bound_keeping_its_end():
    pts = [(i / 999, 0.5) for i in range(1000)]
    msg = drag_message(pts, "#123456", 0.03)
    assert (
        len(msg["points"]) == DRAG_POINTS
        and msg["points"][-1] == [1.0, 0.5]
        and msg["points"][0] == [0.0, 0.5]
    )
    assert msg["colour"] == "#123456" and msg["size"] == 0.03
    assert drag_message([(0.123456, 0.5)], "#000000", 0.1)["points"] == [[0.1235, 0.5]]

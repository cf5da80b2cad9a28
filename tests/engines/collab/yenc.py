"""A tiny Yjs v1 update writer for tests: crafts updates (hostile ones included) byte by byte."""

from __future__ import annotations

import struct
from typing import Any

from engines.collab.protocol import write_var_uint as vu


def vstr(s: str) -> bytes:
    b = s.encode()
    return vu(len(b)) + b


def vint(n: int) -> bytes:
    neg = n < 0
    n = abs(n)
    out = bytearray([(0x40 if neg else 0) | (n & 0x3F) | (0x80 if n > 0x3F else 0)])
    n >>= 6
    while n:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
    return bytes(out)


def any_(v: Any) -> bytes:
    if v is None:
        return bytes([126])
    if v is True:
        return bytes([120])
    if v is False:
        return bytes([121])
    if isinstance(v, int):
        return bytes([125]) + vint(v)
    if isinstance(v, float):
        return bytes([123]) + struct.pack(">d", v)
    if isinstance(v, str):
        return bytes([119]) + vstr(v)
    if isinstance(v, list):
        return bytes([117]) + vu(len(v)) + b"".join(any_(x) for x in v)
    if isinstance(v, dict):
        return bytes([118]) + vu(len(v)) + b"".join(vstr(k) + any_(x) for k, x in v.items())
    raise TypeError(type(v))


def item(
    content: bytes,
    ref: int,
    *,
    origin: tuple[int, int] | None = None,
    right: tuple[int, int] | None = None,
    parent_key: str | None = None,
    parent_id: tuple[int, int] | None = None,
    sub: str | None = None,
) -> bytes:
    """One item struct: ``content`` is the content's bytes, ``ref`` its reference number."""
    info = ref | (0x80 if origin else 0) | (0x40 if right else 0) | (0x20 if sub is not None else 0)
    out = bytes([info])
    if origin:
        out += vu(origin[0]) + vu(origin[1])
    if right:
        out += vu(right[0]) + vu(right[1])
    if not origin and not right:
        if parent_key is not None:
            out += vu(1) + vstr(parent_key)
        else:
            out += vu(0) + vu(parent_id[0]) + vu(parent_id[1])
        if sub is not None:
            out += vstr(sub)
    return out + content


def map_type() -> bytes:
    return vu(1)  # type ref: map (content ref 7)


def any_content(*values: Any) -> bytes:
    return vu(len(values)) + b"".join(any_(v) for v in values)


def update(
    clients: dict[int, tuple[int, list[bytes]]], deletes: dict[int, list[tuple[int, int]]] | None = None
) -> bytes:
    """``clients``: {client: (first clock, [struct bytes])}; ``deletes``: {client: [(clock, len)]}."""
    out = vu(len(clients))
    for client, (clock, structs) in clients.items():
        out += vu(len(structs)) + vu(client) + vu(clock) + b"".join(structs)
    deletes = deletes or {}
    out += vu(len(deletes))
    for client, ranges in deletes.items():
        out += vu(client) + vu(len(ranges)) + b"".join(vu(c) + vu(n) for c, n in ranges)
    return out


STROKE = {"x": 0.5, "y": 0.5, "w": 0.1, "h": 0.1, "theta": 0.2, "r": 1.0, "g": 0.0, "b": 0.0, "opacity": 1.0}


def stroke_structs(sid: str, *, author: str = "t", clock: int = 0, at: tuple[int, int] | None = None, **over):
    """The 13 structs of one new stroke map (map item, then its 12 keys) written by client ``at[0]``
    at clock ``at[1]`` (the map's id); returns the list of struct bytes."""
    client, c0 = at
    fields = {"id": sid, "author": author, **STROKE, "clock": clock, **over}
    out = [item(map_type(), 7, parent_key="strokes")]
    for k, v in fields.items():
        out.append(item(any_content(v), 8, parent_id=(client, c0), sub=k))
    return out


def stroke_value(sid: str, *, author: str = "t", clock: int = 0, **over) -> list:
    """A stroke of painting schema version 2: ``[id, author, clock, x, y, w, h, theta, r, g, b, opacity]``."""
    f = {**STROKE, **over}
    return [sid, author, clock, *(f[k] for k in ("x", "y", "w", "h", "theta", "r", "g", "b", "opacity"))]


def value_structs(sid: str, *, author: str = "t", clock: int = 0, **over) -> list[bytes]:
    """The one struct of a new stroke of version 2: a plain value at the start of ``strokes2``."""
    return [
        item(any_content(stroke_value(sid, author=author, clock=clock, **over)), 8, parent_key="strokes2")
    ]

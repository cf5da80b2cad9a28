"""The Yjs sync and awareness messages (y-protocols), parsed strictly.

A WebSocket binary message is ``varUint(messageType)`` followed by its body:

* ``0`` sync: ``varUint(step)`` then ``varUint8Array(payload)``; step ``0`` is
  SyncStep1 (payload: a state vector), ``1`` SyncStep2 and ``2`` Update
  (payload: a Yjs v1 update).
* ``1`` awareness: ``varUint8Array(update)``, the update being
  ``varUint(n)`` then ``n`` times ``varUint(clientID) varUint(clock)
  varString(JSON state or "null")``.
* ``3`` query awareness: no body.

Everything here checks lengths and bounds and raises :class:`ProtocolError`
on anything else (trailing bytes, truncated numbers, unknown types), so a
hostile peer is told apart from a well-formed one before the document is
touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MSG_SYNC",
    "MSG_AWARENESS",
    "MSG_AUTH",
    "MSG_QUERY_AWARENESS",
    "SYNC_STEP1",
    "SYNC_STEP2",
    "SYNC_UPDATE",
    "ProtocolError",
    "Message",
    "AwarenessEntry",
    "parse_message",
    "parse_awareness",
    "encode_awareness",
    "sync_step1",
    "sync_step2",
    "sync_update",
    "awareness_message",
    "query_awareness",
    "write_var_uint",
]

MSG_SYNC = 0
MSG_AWARENESS = 1
MSG_AUTH = 2
MSG_QUERY_AWARENESS = 3
SYNC_STEP1 = 0
SYNC_STEP2 = 1
SYNC_UPDATE = 2
#: the empty update (no structs, no deletes)
EMPTY_UPDATE = b"\x00\x00"
#: largest awareness state accepted (bytes of JSON)
MAX_AWARENESS_STATE = 16 * 1024
MAX_AWARENESS_ENTRIES = 64
#: deepest nesting of arrays and objects in an awareness state
MAX_AWARENESS_DEPTH = 16


class ProtocolError(ValueError):
    """A message that does not follow the protocol."""


def write_var_uint(n: int) -> bytes:
    if n < 0:
        raise ValueError("varUint must be >= 0")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _var_bytes(b: bytes) -> bytes:
    return write_var_uint(len(b)) + b


class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def uint(self) -> int:
        n = 0
        shift = 0
        buf = self.buf
        while True:
            if self.pos >= len(buf):
                raise ProtocolError("truncated number")
            b = buf[self.pos]
            self.pos += 1
            n |= (b & 0x7F) << shift
            if b < 0x80:
                return n
            shift += 7
            if shift > 63:
                raise ProtocolError("number too long")

    def bytes_(self) -> bytes:
        n = self.uint()
        if n > len(self.buf) - self.pos:
            raise ProtocolError(f"length {n} runs past the end of the message")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return bytes(out)

    def string(self) -> str:
        try:
            return self.bytes_().decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtocolError(f"text is not UTF-8 ({e.reason})") from None

    def end(self) -> None:
        if self.pos != len(self.buf):
            raise ProtocolError(f"{len(self.buf) - self.pos} trailing byte(s)")


@dataclass(frozen=True)
class Message:
    """A parsed message: ``kind`` is "step1", "step2", "update", "awareness" or "query"."""

    kind: str
    payload: bytes = b""


def parse_message(data: bytes) -> Message:
    """Parse one WebSocket message (raises ProtocolError)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ProtocolError("text frames are not part of the protocol")
    r = _Reader(bytes(data))
    t = r.uint()
    if t == MSG_SYNC:
        step = r.uint()
        payload = r.bytes_()
        r.end()
        if step == SYNC_STEP1:
            return Message("step1", payload)
        if step == SYNC_STEP2:
            return Message("step2", payload)
        if step == SYNC_UPDATE:
            return Message("update", payload)
        raise ProtocolError(f"unknown sync step {step}")
    if t == MSG_AWARENESS:
        payload = r.bytes_()
        r.end()
        return Message("awareness", payload)
    if t == MSG_QUERY_AWARENESS:
        r.end()
        return Message("query")
    raise ProtocolError(f"unknown message type {t}")


@dataclass(frozen=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: dict[str, Any] | None


def parse_awareness(update: bytes) -> list[AwarenessEntry]:
    """Parse an awareness update; states must be JSON objects or null."""
    r = _Reader(update)
    n = r.uint()
    if n > MAX_AWARENESS_ENTRIES:
        raise ProtocolError(f"{n} awareness entries (at most {MAX_AWARENESS_ENTRIES})")
    out = []
    for _ in range(n):
        cid = r.uint()
        clock = r.uint()
        raw = r.string()
        if len(raw) > MAX_AWARENESS_STATE:
            raise ProtocolError(f"awareness state of {len(raw)} bytes (at most {MAX_AWARENESS_STATE})")
        if raw.count("[") + raw.count("{") > MAX_AWARENESS_DEPTH and json_depth(raw) > MAX_AWARENESS_DEPTH:
            raise ProtocolError(f"awareness state nested deeper than {MAX_AWARENESS_DEPTH}")
        try:
            state = json.loads(raw) if raw else None
        except (ValueError, RecursionError):
            raise ProtocolError("awareness state is not JSON") from None
        if state is not None and not isinstance(state, dict):
            raise ProtocolError("awareness state must be a JSON object or null")
        out.append(AwarenessEntry(cid, clock, state))
    r.end()
    return out


def json_depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` in JSON text (outside strings), found without recursion."""
    depth = deepest = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "]}":
            depth -= 1
    return deepest


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    parts = [write_var_uint(len(entries))]
    for e in entries:
        parts.append(write_var_uint(e.client_id))
        parts.append(write_var_uint(e.clock))
        parts.append(_var_bytes(json.dumps(e.state, separators=(",", ":")).encode()))
    return b"".join(parts)


def sync_step1(state_vector: bytes) -> bytes:
    return bytes([MSG_SYNC, SYNC_STEP1]) + _var_bytes(state_vector)


def sync_step2(update: bytes) -> bytes:
    return bytes([MSG_SYNC, SYNC_STEP2]) + _var_bytes(update)


def sync_update(update: bytes) -> bytes:
    return bytes([MSG_SYNC, SYNC_UPDATE]) + _var_bytes(update)


def awareness_message(update: bytes) -> bytes:
    return bytes([MSG_AWARENESS]) + _var_bytes(update)


def query_awareness() -> bytes:
    return bytes([MSG_QUERY_AWARENESS])

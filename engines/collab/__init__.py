"""Multi-user painting: the painting as a Yjs (pycrdt) document, its server and its client.

Headless; no Qt. :mod:`engines.collab.schema` (the document and its mirror as
painting strokes), :mod:`engines.collab.protocol` (the Yjs sync and awareness
messages, parsed strictly), :mod:`engines.collab.store` (SQLite persistence),
:mod:`engines.collab.server` (rooms over WebSocket),
:mod:`engines.collab.client` (a reconnecting client) and
:mod:`engines.collab.session` (host/join for the studio, pumped from a runner
job). The schema and the protocol are documented in docs/collab-schema.md.
"""

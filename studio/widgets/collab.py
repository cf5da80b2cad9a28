"""Widgets of a multi-user painting session: host / join / invite dialogs, the connection
indicator and the participant list. Plain Qt; the session itself lives in
:mod:`engines.collab.session` and is driven by :mod:`studio.panels.painting.session`."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from PySide6 import QtCore, QtGui, QtWidgets

from engines.collab.server import ROOM_RE

__all__ = [
    "PEER_COLOURS",
    "ConnectionIndicator",
    "HostDialog",
    "InviteDialog",
    "JoinDialog",
    "JoinTarget",
    "ParticipantList",
    "colour_for",
    "is_loopback",
    "page_link",
    "parse_join_address",
]

#: distinct colours for participants (cursor, list swatch)
PEER_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324")
NAME_RE = re.compile(r"^[^\x00-\x1f]{1,40}$")


def colour_for(name: str) -> str:
    """A stable colour for a display name."""
    h = hashlib.sha1(name.encode("utf-8")).digest()[0]
    return PEER_COLOURS[h % len(PEER_COLOURS)]


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    h = host.strip().strip("[]")
    if h.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class JoinTarget:
    url: str  # ws://host:port
    room: str
    token: str | None  # when the address carried ?token=


def parse_join_address(text: str) -> JoinTarget:
    """``host:port/room``, ``ws://host:port/room`` or ``ws://host:port/room?token=T``.

    Raises ValueError naming what is wrong.
    """
    t = text.strip()
    if not t:
        raise ValueError("address: empty (expected host:port/room)")
    if "://" not in t:
        t = "ws://" + t
    parts = urlsplit(t)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"address {text!r}: the scheme must be ws:// or wss://")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"address {text!r}: the port is not a number in [1, 65535]") from None
    if not parts.hostname:
        raise ValueError(f"address {text!r}: no host (expected host:port/room)")
    if port is None or port == 0:
        raise ValueError(f"address {text!r}: no port (expected host:port/room)")
    room = parts.path.strip("/")
    if not room:
        raise ValueError(f"address {text!r}: no room (expected host:port/room)")
    if not ROOM_RE.fullmatch(room):
        raise ValueError(f"address {text!r}: room {room!r} must be 1-100 of A-Z a-z 0-9 . _ ~ -")
    token = parse_qs(parts.query).get("token", [None])[0]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return JoinTarget(f"{parts.scheme}://{host}:{port}", room, token)


def _copy_row(text: str, name: str) -> tuple[QtWidgets.QLineEdit, QtWidgets.QWidget]:
    row = QtWidgets.QWidget()
    lay = QtWidgets.QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    edit = QtWidgets.QLineEdit(text)
    edit.setReadOnly(True)
    edit.setObjectName(name)
    # wide enough for a whole link where the screen allows; the start shown (ws:// or http://)
    edit.setMinimumWidth(min(560, max(360, edit.fontMetrics().horizontalAdvance(text) + 16)))
    edit.setCursorPosition(0)
    copy = QtWidgets.QPushButton("Copy")
    copy.setObjectName(name + "Copy")
    copy.clicked.connect(lambda: QtGui.QGuiApplication.clipboard().setText(edit.text()))
    lay.addWidget(edit, 1)
    lay.addWidget(copy)
    return edit, row


class HostDialog(QtWidgets.QDialog):
    """File -> Host session…: where to listen, which room, where to keep it."""

    def __init__(self, parent=None, settings: QtCore.QSettings | None = None, name: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Host a painting session")
        self.setObjectName("HostDialog")
        self.setMinimumWidth(460)
        self.settings = settings
        form = QtWidgets.QFormLayout(self)
        get = (lambda k, d: str(settings.value(f"collab/host/{k}", d))) if settings else (lambda k, d: d)
        self.bind_edit = QtWidgets.QLineEdit(get("bind", "127.0.0.1"))
        self.bind_edit.setToolTip("127.0.0.1: only this machine; 0.0.0.0: every network interface")
        form.addRow("Listen on", self.bind_edit)
        self.port_box = QtWidgets.QSpinBox()
        self.port_box.setRange(0, 65535)
        self.port_box.setSpecialValueText("any free port")
        self.port_box.setValue(int(get("port", "0") or 0))
        form.addRow("Port", self.port_box)
        self.room_edit = QtWidgets.QLineEdit(get("room", "studio"))
        form.addRow("Room", self.room_edit)
        store_row = QtWidgets.QHBoxLayout()
        self.store_edit = QtWidgets.QLineEdit(get("store", ""))
        self.store_edit.setPlaceholderText("none: the room lives in memory until you leave")
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        store_row.addWidget(self.store_edit, 1)
        store_row.addWidget(browse)
        form.addRow("Store file", store_row)
        self.token_edit = QtWidgets.QLineEdit("")
        self.token_edit.setPlaceholderText("random (shown once the session runs)")
        self.token_edit.setToolTip("give the token of an earlier session to let its people rejoin")
        form.addRow("Token", self.token_edit)
        self.name_edit = QtWidgets.QLineEdit(name or get("name", "") or "host")
        form.addRow("Your name", self.name_edit)
        self.warning = QtWidgets.QLabel(
            "⚠ Not a loopback address: other machines can reach this server, and anyone "
            "holding the token can paint in the room. Share the token only with people you trust."
        )
        self.warning.setObjectName("HostWarning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #c0392b;")
        form.addRow(self.warning)
        self.error = QtWidgets.QLabel("")
        self.error.setStyleSheet("color: #c0392b;")
        form.addRow(self.error)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Host")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.bind_edit.textChanged.connect(self._sync_warning)
        self._sync_warning()

    def _browse(self) -> None:
        f, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Session store", self.store_edit.text() or "sessions.db", "SQLite (*.db);;All files (*)"
        )
        if f:
            self.store_edit.setText(f)

    def _sync_warning(self) -> None:
        self.warning.setVisible(not is_loopback(self.bind_edit.text()))

    def values(self) -> dict:
        """The choices, checked (raises ValueError naming the field)."""
        bind = self.bind_edit.text().strip()
        if not bind:
            raise ValueError("Listen on: an address is needed (127.0.0.1 for this machine only)")
        room = self.room_edit.text().strip()
        if not ROOM_RE.fullmatch(room):
            raise ValueError(f"Room {room!r}: 1-100 of A-Z a-z 0-9 . _ ~ -, starting with a letter or digit")
        name = self.name_edit.text().strip()
        if not NAME_RE.match(name):
            raise ValueError("Your name: 1 to 40 characters")
        return {
            "bind": bind,
            "port": int(self.port_box.value()),
            "room": room,
            "store": self.store_edit.text().strip() or ":memory:",
            "token": self.token_edit.text().strip() or None,
            "name": name,
        }

    def _accept(self) -> None:
        try:
            v = self.values()
        except ValueError as e:
            self.error.setText(str(e))
            return
        if self.settings is not None:
            for k in ("bind", "port", "room", "name"):
                self.settings.setValue(f"collab/host/{k}", v[k])
            self.settings.setValue("collab/host/store", "" if v["store"] == ":memory:" else v["store"])
        self.accept()


class JoinDialog(QtWidgets.QDialog):
    """File -> Join session…: host:port/room, token, display name (remembered)."""

    def __init__(self, parent=None, settings: QtCore.QSettings | None = None, strokes_open: int = 0):
        super().__init__(parent)
        self.setWindowTitle("Join a painting session")
        self.setObjectName("JoinDialog")
        self.setMinimumWidth(460)
        self.settings = settings
        get = (lambda k, d: str(settings.value(f"collab/join/{k}", d))) if settings else (lambda k, d: d)
        form = QtWidgets.QFormLayout(self)
        self.address_edit = QtWidgets.QLineEdit(get("address", ""))
        self.address_edit.setPlaceholderText("host:port/room (or the ws:// address you were given)")
        form.addRow("Address", self.address_edit)
        self.token_edit = QtWidgets.QLineEdit(get("token", ""))
        self.token_edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.PasswordEchoOnEdit)
        form.addRow("Token", self.token_edit)
        self.name_edit = QtWidgets.QLineEdit(get("name", ""))
        self.name_edit.setPlaceholderText("shown to the others with your cursor")
        form.addRow("Your name", self.name_edit)
        self.bring_box = QtWidgets.QCheckBox("Bring my current painting into the room")
        self.bring_box.setToolTip("unticked: the canvas shows the room's painting (yours is replaced)")
        form.addRow(self.bring_box)
        self.replace_warning = QtWidgets.QLabel(
            f"The painting open here ({strokes_open} strokes) will be replaced by the room's: "
            "save it first, or tick the box to bring it along."
        )
        self.replace_warning.setObjectName("JoinReplaceWarning")
        self.replace_warning.setWordWrap(True)
        self.replace_warning.setStyleSheet("color: #b9770e;")
        form.addRow(self.replace_warning)
        self.bring_box.toggled.connect(
            lambda on: self.replace_warning.setVisible(strokes_open > 0 and not on)
        )
        self.replace_warning.setVisible(strokes_open > 0)
        self.error = QtWidgets.QLabel("")
        self.error.setStyleSheet("color: #c0392b;")
        form.addRow(self.error)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Join")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict:
        target = parse_join_address(self.address_edit.text())
        token = self.token_edit.text().strip() or target.token
        if not token:
            raise ValueError("Token: the room's token is needed (the host sees it in the session box)")
        name = self.name_edit.text().strip()
        if not NAME_RE.match(name):
            raise ValueError("Your name: 1 to 40 characters")
        return {
            "url": target.url,
            "room": target.room,
            "token": token,
            "name": name,
            "bring": self.bring_box.isChecked(),
        }

    def _accept(self) -> None:
        try:
            self.values()
        except ValueError as e:
            self.error.setText(str(e))
            return
        if self.settings is not None:
            self.settings.setValue("collab/join/address", self.address_edit.text().strip())
            self.settings.setValue("collab/join/token", self.token_edit.text().strip())
            self.settings.setValue("collab/join/name", self.name_edit.text().strip())
        self.accept()


def page_link(address: str, token: str) -> str:
    """The browser page of a room, ``http://host:port/room?token=T``, from its join address ``ws://host:port/room``
    (the room server answers a plain HTTP GET on the WebSocket's port with the page)."""
    rest = address.split("://", 1)[-1]
    scheme = "https" if address.startswith("wss://") else "http"
    return f"{scheme}://{rest}?token={quote(token, safe='')}"


class InviteDialog(QtWidgets.QDialog):
    """What the host gives the others: the join address and the token, each with Copy, and the browser link."""

    def __init__(self, address: str, token: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Invite people to this session")
        self.setObjectName("InviteDialog")
        form = QtWidgets.QFormLayout(self)
        self.address_edit, row = _copy_row(address, "InviteAddress")
        form.addRow("Join address", row)
        self.token_edit, row = _copy_row(token, "InviteToken")
        form.addRow("Token", row)
        self.link_edit, row = _copy_row(f"{address}?token={token}", "InviteLink")
        form.addRow("Both at once", row)
        self.page_edit, row = _copy_row(page_link(address, token), "InvitePage")
        form.addRow("In a browser", row)
        hint = QtWidgets.QLabel(
            "Others choose Session → Join session… and paste the address and the token "
            "(or the line with both). Without the studio, open the browser link in any current "
            "browser: it paints in the same room."
        )
        hint.setWordWrap(True)
        form.addRow(hint)
        ok = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        ok.rejected.connect(self.accept)
        ok.accepted.connect(self.accept)
        form.addRow(ok)


class ConnectionIndicator(QtWidgets.QLabel):
    """A coloured dot and a word: Disconnected / Connecting… / Connected (n peers) / Reconnecting…"""

    COLOURS = {"off": "#888888", "wait": "#e0a020", "ok": "#27ae60", "bad": "#c0392b"}

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("ConnectionIndicator")
        self.kind = ""
        self.text_now = ""
        self.set_state("off", "Disconnected")

    def set_state(self, kind: str, text: str, tooltip: str = "") -> None:
        if (kind, text) == (self.kind, self.text_now):
            return
        self.kind, self.text_now = kind, text
        colour = self.COLOURS.get(kind, "#888888")
        self.setText(f'<span style="color:{colour}; font-size:14px">●</span> {text}')
        self.setToolTip(tooltip)


class ParticipantList(QtWidgets.QListWidget):
    """Who is in the room: a colour swatch and a name each, me first."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("ParticipantList")
        self.setMaximumHeight(110)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self._key: tuple = ()

    def set_people(self, people: list[tuple[str, str]]) -> None:
        """``people``: (name, colour) pairs in display order."""
        key = tuple(people)
        if key == self._key:
            return
        self._key = key
        self.clear()
        for name, colour in people:
            pm = QtGui.QPixmap(12, 12)
            pm.fill(QtGui.QColor(colour) if QtGui.QColor.isValidColorName(colour) else QtGui.QColor("#888"))
            self.addItem(QtWidgets.QListWidgetItem(QtGui.QIcon(pm), name))

    def names(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

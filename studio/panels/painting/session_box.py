"""The Session box and the Session menu: host, join, invite, leave; who is in the room and how it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from studio.panels.painting.session import SessionController
from studio.widgets.collab import ConnectionIndicator, HostDialog, InviteDialog, JoinDialog, ParticipantList


class SessionBox(QtWidgets.QGroupBox):
    """A view of one :class:`SessionController` with its buttons, and the same commands as a menu.

    ``author()`` is the name to offer when hosting, ``strokes_open()`` how many strokes joining
    would replace; the dialogs remember their fields in the window's settings.
    """

    def __init__(
        self,
        controller: SessionController,
        author: Callable[[], str],
        strokes_open: Callable[[], int],
        parent: QtWidgets.QWidget | None = None,
    ):
        super().__init__("Session", parent)
        self.setObjectName("SessionBox")
        self.setFixedWidth(250)
        self.controller = controller
        self._author, self._strokes_open = author, strokes_open
        self.invite_pending = False
        self.invite_dialog: InviteDialog | None = None
        self._build_widgets()
        self._build_menu()
        self._connect()
        self.sync()

    def _build_widgets(self) -> None:
        lay = QtWidgets.QVBoxLayout(self)
        self.indicator = ConnectionIndicator()
        lay.addWidget(self.indicator)
        row = QtWidgets.QHBoxLayout()
        self.host_button = QtWidgets.QPushButton("Host…")
        self.join_button = QtWidgets.QPushButton("Join…")
        self.leave_button = QtWidgets.QPushButton("Leave")
        for b in (self.host_button, self.join_button, self.leave_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.address_edit = QtWidgets.QLineEdit()
        self.address_edit.setObjectName("SessionAddress")
        self.address_edit.setReadOnly(True)
        self.address_edit.setPlaceholderText("join address")
        self.token_edit = QtWidgets.QLineEdit()
        self.token_edit.setObjectName("SessionToken")
        self.token_edit.setReadOnly(True)
        self.token_edit.setPlaceholderText("room token")
        self.token_edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        lay.addWidget(self.address_edit)
        trow = QtWidgets.QHBoxLayout()
        trow.addWidget(self.token_edit, 1)
        self.invite_button = QtWidgets.QPushButton("Invite…")
        self.invite_button.setToolTip("the join address and the token, to copy")
        trow.addWidget(self.invite_button)
        lay.addLayout(trow)
        lay.addWidget(QtWidgets.QLabel("People"))
        self.participants = ParticipantList()
        lay.addWidget(self.participants)

    def _build_menu(self) -> None:
        # the Session menu (toolbar): File -> Host / Join / Leave of the issue
        self.act_host = QtGui.QAction("&Host session…", self)
        self.act_join = QtGui.QAction("&Join session…", self)
        self.act_invite = QtGui.QAction("&Invite (address and token)…", self)
        self.act_leave = QtGui.QAction("&Leave session", self)
        self.menu = QtWidgets.QMenu("Session", self)
        for a in (self.act_host, self.act_join, self.act_invite, self.act_leave):
            self.menu.addAction(a)
        self.action = QtGui.QAction("Session", self)
        self.action.setObjectName("act_session")
        self.action.setToolTip("host or join a multi-user painting session")
        self.action.setMenu(self.menu)
        self.action.triggered.connect(lambda: self.menu.popup(QtGui.QCursor.pos()))

    def _connect(self) -> None:
        for act, button, slot in (
            (self.act_host, self.host_button, self.ask_host),
            (self.act_join, self.join_button, self.ask_join),
            (self.act_invite, self.invite_button, self.show_invite),
            (self.act_leave, self.leave_button, self.controller.leave),
        ):
            act.triggered.connect(slot)
            button.clicked.connect(slot)
        self.controller.changed.connect(self.sync)

    # -- commands ----------------------------------------------------------------
    def _settings(self) -> QtCore.QSettings:
        s = getattr(self.window(), "settings", None)
        if isinstance(s, QtCore.QSettings):
            return s
        from studio.config import settings_path

        return QtCore.QSettings(str(settings_path()), QtCore.QSettings.Format.IniFormat)

    def host(self, show_invite: bool = False, **kw: Any) -> bool:
        ok = self.controller.host(**kw)
        self.invite_pending = ok and show_invite
        return ok

    def ask_host(self) -> None:
        if self.controller.active:
            self.controller.panel.show_error("Already in a session: leave it first.")
            return
        dlg = HostDialog(self, self._settings(), name=self._author())
        if dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.host(show_invite=True, **dlg.values())

    def ask_join(self) -> None:
        if self.controller.active:
            self.controller.panel.show_error("Already in a session: leave it first.")
            return
        dlg = JoinDialog(self, self._settings(), strokes_open=self._strokes_open())
        if dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.controller.join(**dlg.values())

    def show_invite(self) -> InviteDialog | None:
        st = self.controller.status
        if not self.controller.active or st is None or not st.token:
            self.controller.panel.show_error("Not in a session: host or join one first.")
            return None
        dlg = InviteDialog(self.controller.join_address(), st.token, self)
        dlg.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self.invite_dialog = dlg
        return dlg

    # -- drawing -----------------------------------------------------------------
    def sync(self) -> None:
        """Show the controller's state: indicator, people, address and token, what can be done."""
        sc = self.controller
        kind, text, tip = sc.indicator()
        self.indicator.set_state(kind, text, tip)
        self.participants.set_people(sc.people())
        st = sc.status
        address = sc.join_address() if sc.active else ""
        if self.address_edit.text() != address:
            self.address_edit.setText(address)
        token = st.token if (sc.active and st is not None) else ""
        if self.token_edit.text() != token:
            self.token_edit.setText(token)
        active = sc.active
        for w in (self.host_button, self.join_button, self.act_host, self.act_join):
            w.setEnabled(not active)
        for w in (self.leave_button, self.act_leave):
            w.setEnabled(active and not sc.leaving)
        for w in (self.invite_button, self.act_invite):
            w.setEnabled(bool(token))
        if self.invite_pending and token and address:
            self.invite_pending = False
            self.show_invite()


class SessionActions:
    """The painting panel's session commands (a mixin): the toolbar's and File menu's Session menu,
    host, join, invite, leave. Needs ``session`` (a :class:`SessionController`) and ``session_box``."""

    def extra_actions(self) -> list[QtGui.QAction]:
        return [self.session_action]

    def file_menu_entries(self) -> list:
        """File -> Painting session (Host / Join / Invite / Leave), above Quit."""
        self.session_menu.setTitle("Painting &session")
        return [self.session_menu]

    def host_session(self, show_invite: bool = False, **kw: Any) -> bool:
        """Host a room (see :meth:`SessionController.host`); the painting goes into it."""
        return self.session_box.host(show_invite=show_invite, **kw)

    def join_session(self, **kw: Any) -> bool:
        """Join a room (see :meth:`SessionController.join`)."""
        return self.session.join(**kw)

    def leave_session(self) -> None:
        self.session.leave()

    def show_invite(self):
        return self.session_box.show_invite()

    @property
    def _invite_dialog(self):
        return self.session_box.invite_dialog

    def shutdown(self) -> None:
        self.session.shutdown(timeout_s=1.0)  # the server (when hosting) stops with the window


__all__ = ["SessionActions", "SessionBox"]

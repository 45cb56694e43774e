"""What a server start tells its operator, and where.

Every start logs the workspaces with their installation number (``igrp``),
which every Config API path names. The first start on an empty database also
creates the ``default`` workspace, whose keys exist in plain text only at that
moment (Patron stores them hashed). Those keys never go into a log, since
anything may collect a log: on an interactive terminal they are printed there,
for the person starting Patron; otherwise they are written to a new file only
its owner can read, and the log says where it is.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TextIO

from patron.domain.tenancy.service import IssuedKeys, ListedWorkspace
from patron.settings import Settings

log = logging.getLogger("patron")

# A start names this many workspaces at most, and counts the others.
NAMED_AT_START = 10


def interactive_terminal() -> TextIO | None:
    """Standard error, or else standard output, if it is an interactive terminal."""
    for stream in (sys.stderr, sys.stdout):
        if stream is not None and not stream.closed and stream.isatty():
            return stream
    return None


def keys_folder(settings: Settings) -> Path:
    """Where a keys file goes: ``PATRON_KEYS_DIR``, the SQLite file's folder, or here."""
    if settings.keys_dir:
        return Path(settings.keys_dir).absolute()
    database = settings.sqlite_file
    return (database.parent if database is not None else Path()).absolute()


def hand_over_keys(issued: IssuedKeys, *, terminal: TextIO | None, folder: Path) -> Path | None:
    """Give the operator a new workspace's keys without logging them.

    On ``terminal`` if there is one; otherwise in a new file in ``folder``,
    whose path is returned (None if it could not be written: the log says how
    to issue new keys).
    """
    name, igrp = issued.workspace.name, issued.igrp
    if terminal is not None:
        terminal.write(f"\n{keys_text(issued)}\n")
        terminal.flush()
        log.info("created the %r workspace (igrp %s); its keys are on the terminal", name, igrp)
        return None
    path = folder / f"patron-keys-{issued.workspace.id}.txt"
    try:
        write_private_file(path, keys_text(issued))
    except OSError as error:
        log.error(
            "created the %r workspace (igrp %s) but could not write its keys to %s (%s); "
            "issue new ones with `patron workspace add-key --workspace %s --kind KIND`",
            name,
            igrp,
            path,
            error.strerror or error,
            name,
        )
        return None
    log.warning(
        "created the %r workspace (igrp %s); its keys are in %s (readable only by its owner): "
        "keep them safe, then delete the file",
        name,
        igrp,
        path,
    )
    return path


def keys_text(issued: IssuedKeys) -> str:
    """The keys as ``name=value`` lines under a comment (a shell can source them)."""
    workspace = issued.workspace
    lines = [
        f"# Patron created the {workspace.name!r} workspace ({workspace.id}). Its keys are shown",
        "# only now (Patron stores them hashed); `patron workspace add-key` makes new ones.",
        f"igrp={issued.igrp}",
        *(f"{kind}={key}" for kind, key in issued.keys.items()),
    ]
    return "\n".join(lines) + "\n"


def write_private_file(path: Path, text: str) -> None:
    """Create ``path`` readable and writable by its owner only, and write ``text`` to it.

    The file is created with its final mode in one step, and never over an
    existing file or symbolic link, so no one else can ever read it.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
    except OSError:
        path.unlink(missing_ok=True)  # half-written keys are of no use
        raise


def log_workspaces(listed: list[ListedWorkspace]) -> None:
    """One line naming the workspaces and their igrp (the Config API's paths need it)."""
    shown = listed[:NAMED_AT_START]
    named = ", ".join(f"{entry.workspace.name!r} (igrp {entry.igrp})" for entry in shown)
    more = len(listed) - NAMED_AT_START
    others = f" and {more} more (`patron workspace list`)" if more > 0 else ""
    log.info("workspaces: %s%s", named or "none", others)

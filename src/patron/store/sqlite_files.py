"""SQLite's files under a running Patron: a tampered file is a refused transaction, not a crash.

In WAL mode SQLite keeps its WAL index in ``<database>-shm``, a file that every
connection of every process maps into memory (``MAP_SHARED``): that is how they
share it. When that file shrinks under the mapping — something outside Patron
truncates it, or copies a smaller file over it — the next access past its new
end raises SIGBUS and the process dies on the spot: no Python code runs,
nothing is logged, every request in flight is cut off. (The database file
would do the same if SQLite mapped it too, ``PRAGMA mmap_size`` > 0, as some
builds do by default: :mod:`patron.store.database` turns that off.)

A private index in heap memory (``locking_mode=EXCLUSIVE``, or the
``unix-excl`` VFS) would remove the mapping, but it locks every other process
out of the database, and the ``patron`` commands work beside a running server.
So the shared index stays, and :class:`WalIndexGuard` watches it:

* Before each transaction, before each commit and after each transaction it
  compares the file's size with the largest it has seen (one ``fstat``); on
  Linux a thread woken by the truncation itself (inotify) does the same at
  once, which matters most while a COMMIT waits for its fsync with the index
  mapped, about to touch it. A shrink is logged once, at ERROR, naming the
  file. The lost part is given back as zeros, so that nothing mapped faults;
  the transactions in flight are refused (their view of the index is gone:
  no write that saw it commits); and as soon as none is running the whole
  index is zeroed, which SQLite reads as an index never initialised and
  rebuilds from the WAL file, exactly as after a crash. Until then every
  transaction is refused: 503, not a dead process.
* While another process has the database open (it holds SQLite's lock on the
  index), the guard cannot know what that process is doing with the index, so
  it leaves the file alone and refuses everything until Patron is restarted.
* A shrink that SQLite touches before the guard has given the lost part back
  (a narrow race now, but a race) still kills the process, so
  ``faulthandler`` is enabled to print every thread's stack when it happens.
* A new connection first checks that the database file is still the one the
  process opened. When it was replaced (a backup moved over it), SQLite would
  take the new file for a fresh database and truncate the shared index that
  the process's older connections still map: the new connection is refused.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import fcntl
import logging
import os
import select
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from patron.store.faults import StorageFault

log = logging.getLogger(__name__)

# The byte of the -shm file that SQLite's unix VFS keeps read-locked in every
# process that has the database open (its "dead man switch", UNIX_SHM_DMS).
_DEAD_MAN_SWITCH = 128


class WalIndexGuard:
    """Watches one database's ``-shm`` file for the process (see the module's docstring)."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.index = Path(f"{database}-shm")
        self.wal = Path(f"{database}-wal")
        self.users = 0  # Database objects sharing this guard (see acquire_guard)
        self._state = threading.Lock()  # held briefly, by every transaction
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None  # the database file's (device, inode)
        self._high_water = 0
        self._in_flight = 0
        self._faulted = False
        self._shared = False  # another process had the index when it shrank
        self._watcher: _Watcher | None = None
        self.generation = 0  # how many times the index was rebuilt (see Database's begin)
        self._replaced_reported = False
        if not faulthandler.is_enabled():  # a fault no check catches prints the stacks
            with contextlib.suppress(AttributeError, OSError, RuntimeError, ValueError):
                faulthandler.enable()  # (not where standard error is no file)

    def check_file(self) -> None:
        """Before a new connection reads anything: is the file under its name the one open?"""
        try:
            stat = os.stat(self.database)
            identity = (stat.st_dev, stat.st_ino)
        except FileNotFoundError:
            identity = (-1, -1)
        with self._state:
            if self._identity is None:
                self._identity = identity
                return
            if identity == self._identity:
                return
            first, self._replaced_reported = not self._replaced_reported, True
        message = (
            f"{self.database} was replaced while Patron had it open; Patron keeps the file it "
            "opened and refuses new connections to the new one (SQLite would reset the WAL "
            "index the open connections share); restart Patron to use the new file"
        )
        if first:
            log.error("%s", message)
        raise StorageFault(message)

    @contextlib.contextmanager
    def transaction(self, *, reading: bool) -> Iterator[None]:
        """Around one transaction, from before its connection is taken to after it ends."""
        self._inspect()
        with self._state:
            if self._faulted and not self._heal():
                raise StorageFault(self._refusal())
            self._in_flight += 1
        try:
            yield
        except BaseException:
            with self._state:
                self._in_flight -= 1
            raise
        with self._state:
            self._in_flight -= 1
        if self._fd is None:
            self._watch()
        self._inspect()
        if reading and self._faulted:  # what it read may have come through a broken index
            raise StorageFault(self._refusal())

    @contextlib.contextmanager
    def committing(self) -> Iterator[None]:
        """Around the COMMIT of a write transaction: refused if the index broke during it
        (what the transaction read may have come through it)."""
        self._inspect()
        if self._faulted:
            raise StorageFault(self._refusal())
        yield

    def close(self) -> None:
        """Once no connection of this process has the database open any more."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if self._fd is not None:
            os.close(self._fd)  # only now: closing drops the process's locks on the file
            self._fd = None

    def _watch(self) -> None:
        """After a transaction of this process has used the WAL index: watch it from now on.

        Not before: the first connection of the first process to open the
        database truncates the index itself, to start afresh.
        """
        with self._state:
            if self._fd is None:
                with contextlib.suppress(FileNotFoundError):  # not in WAL mode: nothing mapped
                    self._fd = os.open(self.index, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
                    self._high_water = os.fstat(self._fd).st_size
                    self._watcher = _Watcher.start(self.index, self._inspect)

    def _inspect(self) -> None:
        fd = self._fd
        if fd is None:
            return
        size = os.fstat(fd).st_size
        with self._state:
            if size >= self._high_water:
                self._high_water = size
                return
        self._shrunk(fd)

    def _shrunk(self, fd: int) -> None:
        with self._state:
            size, high_water = os.fstat(fd).st_size, self._high_water
            if size >= high_water or self._faulted:
                return
            self._faulted = True  # first: no transaction starts or commits from now on
            self._shared = self._shared_with_another_process(fd)
            if not self._shared:
                # Zeros where the mappings reach, so that nothing faults — at once,
                # even under a COMMIT: what that COMMIT writes into the index is
                # thrown away with the rest when the index is rebuilt.
                os.ftruncate(fd, high_water)
        log.error(
            "SQLite's WAL index %s shrank from %d to %d bytes while Patron had it mapped: "
            "something outside Patron truncated or overwrote it. %s",
            self.index,
            high_water,
            size,
            self._refusal(),
        )

    def _heal(self) -> bool:
        """With no transaction running and no other process: have SQLite rebuild the index."""
        if self._shared or self._in_flight or self._fd is None:
            return False
        # Zeros, written over the whole mapped size (never shrinking it): SQLite
        # takes an all-zero header for an index never built, and rebuilds it from
        # the WAL at the next transaction.
        os.pwrite(self._fd, bytes(self._high_water), 0)
        self._faulted = False
        self.generation += 1
        log.warning("reset SQLite's WAL index %s; SQLite rebuilds it from %s", self.index, self.wal)
        return True

    def _refusal(self) -> str:
        if self._shared:
            return (
                "Another process has the database open too, so Patron leaves the index alone and "
                "refuses every transaction (503): stop that process, then restart Patron."
            )
        return (
            "Patron refuses the transactions that used it (503) and has SQLite rebuild it "
            f"from {self.wal.name} as soon as none is running."
        )

    @staticmethod
    def _shared_with_another_process(fd: int) -> bool:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _DEAD_MAN_SWITCH, os.SEEK_SET)
        except OSError:
            return True
        # Back to the read lock SQLite's connections hold there (a process has one lock per byte).
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, _DEAD_MAN_SWITCH, os.SEEK_SET)
        return False


class _Watcher:
    """Linux: calls ``changed`` the moment the file is truncated or written (inotify).

    The checks around transactions catch a shrink only between SQLite's
    uses of the index; a write transaction's COMMIT waits for its fsync with
    the index mapped, and touches it right after. Woken by the truncation
    itself, the guard usually gives the lost part back before that.
    (SQLite's own stores into the mapping raise no event.)
    """

    def __init__(self, inotify: int, changed: Callable[[], None]) -> None:
        self._inotify = inotify
        self._changed = changed
        self._stop_r, self._stop_w = os.pipe()  # wakes the thread to end it
        self._thread = threading.Thread(target=self._run, name="patron-wal-index", daemon=True)

    @classmethod
    def start(cls, path: Path, changed: Callable[[], None]) -> _Watcher | None:
        """A running watcher, or None where inotify is not to be had (the checks remain)."""
        if _libc is None:
            return None
        try:
            inotify = _libc.inotify_init1(os.O_CLOEXEC)
        except AttributeError:  # a C library without inotify
            return None
        if inotify < 0:
            return None
        if _libc.inotify_add_watch(inotify, os.fsencode(path), _IN_MODIFY) < 0:
            os.close(inotify)
            return None
        watcher = cls(inotify, changed)
        watcher._thread.start()
        return watcher

    def stop(self) -> None:
        os.write(self._stop_w, b".")
        self._thread.join(timeout=5)
        for fd in (self._inotify, self._stop_r, self._stop_w):
            os.close(fd)

    def _run(self) -> None:
        while True:
            ready, _, _ = select.select([self._inotify, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            os.read(self._inotify, 4096)  # the events themselves say nothing more
            with contextlib.suppress(OSError):
                self._changed()


_IN_MODIFY = 0x2
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None

_guards: dict[Path, WalIndexGuard] = {}
_guards_lock = threading.Lock()


def acquire_guard(database: Path) -> WalIndexGuard:
    """The process's guard of this database file, shared by every Database opened on it.

    One per file, because closing any descriptor of a file drops every POSIX
    lock the process holds on it — SQLite's included.
    """
    path = database.resolve()  # SQLite names -shm after the file symbolic links lead to
    with _guards_lock:
        guard = _guards.get(path)
        if guard is None:
            guard = _guards[path] = WalIndexGuard(path)
        guard.users += 1
        return guard


def release_guard(guard: WalIndexGuard) -> None:
    """After a Database has closed its connections; the last user closes the guard."""
    with _guards_lock:
        guard.users -= 1
        if guard.users == 0:
            _guards.pop(guard.database, None)
            guard.close()

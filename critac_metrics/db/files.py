"""Writing beside the store without leaving a mess: one-line errors for a folder that cannot be
written or a full disk, private scratch folders in TMPDIR, the writer lock, and working copies that
get the published file's mode, owner and group."""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import shutil
import stat
import tempfile
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

import duckdb


class WriteError(OSError):
    """A folder or file could not be written (read-only, full disk, no permission) and nothing was
    changed. ``str()`` is one line for the user; ``reason`` is the system's reason alone."""

    def __init__(self, message: str, reason: str, cause: OSError | None = None) -> None:
        super().__init__(cause.errno if cause else None, cause.strerror if cause else reason)
        self.message = message
        self.reason = reason

    def __str__(self) -> str:
        return self.message


def _reason(exc: BaseException) -> str:
    """One short line saying why a write failed, with the file's name but not the server's path."""
    if isinstance(exc, OSError):
        text = exc.strerror or type(exc).__name__
        return f"{text}: {Path(os.fsdecode(exc.filename)).name}" if exc.filename else text
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


@contextmanager
def _write_errors(path: Path, action: str) -> Iterator[None]:
    """Turn a failed write to the store (a read-only folder, a full disk) into one WriteError."""
    try:
        yield
    except WriteError:
        raise
    except (OSError, duckdb.IOException) as exc:
        reason = _reason(exc)
        cause = exc if isinstance(exc, OSError) else None
        if cause is None and "no space left" in reason.lower():
            cause = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        raise WriteError(
            f"{path}: could not {action} ({reason}); nothing was changed", reason, cause
        ) from exc


# -- scratch folders in TMPDIR ----------------------------------------------------------------------

SCRATCH_PREFIXES = ("critac-import-", "critac-spill-")
_HELD = ".held"  # inside a scratch folder, locked (flock) by the process that uses the folder
# A scratch folder without a lock file is one being made right now, or one left by older code.
UNLOCKED_SCRATCH_TTL = 3600.0


class ScratchDir:
    """A private folder in TMPDIR for one import's staging or spill files.

    The process that made it holds an exclusive ``flock`` on ``.held`` inside it for as long as it
    uses it. ``cleanup()`` removes it; if the process is killed first, the next ``ScratchDir`` (the
    next import) finds the lock free and removes the folder (``remove_stale_scratch``). A lock,
    not a process id, says who is alive: it is released by the kernel when the process dies,
    whatever PID namespace the processes are in, and a reused PID cannot keep it."""

    def __init__(self, prefix: str) -> None:
        remove_stale_scratch()
        root = tempfile.gettempdir()
        try:
            self.path = Path(tempfile.mkdtemp(prefix=prefix))
        except OSError as exc:
            reason = _reason(exc)
            raise WriteError(
                f"could not make a scratch folder in {root} ({reason}); nothing was changed."
                " Set TMPDIR to a writable folder with free space.",
                reason,
                exc,
            ) from exc
        try:
            # Locked before it gets its final name, so a cleaner never finds it free while alive.
            pending = self.path / f"{_HELD}.pending"
            handle = pending.open("w")
            fcntl.flock(handle, fcntl.LOCK_EX)
            pending.rename(self.path / _HELD)
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise
        self._finalizer = weakref.finalize(self, _remove_scratch, self.path, handle)

    def cleanup(self) -> None:
        self._finalizer()


def _remove_scratch(path: Path, handle: IO[str]) -> None:
    shutil.rmtree(path, ignore_errors=True)
    handle.close()  # released after removal: no cleaner can take a half-removed folder for stale


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A ``ScratchDir`` for the block's duration."""
    scratch = ScratchDir(prefix)
    try:
        yield scratch.path
    finally:
        scratch.cleanup()


def remove_stale_scratch(root: str | Path | None = None) -> list[Path]:
    """Remove this user's scratch folders in ``root`` (default TMPDIR) left by killed processes:
    those whose ``.held`` lock no process holds (and, from older code, unlocked ones more than an
    hour old). Returns what it removed; never raises."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    for prefix in SCRATCH_PREFIXES:
        try:
            candidates = list(root.glob(prefix + "*"))
        except OSError:
            continue
        for folder in candidates:
            with suppress(OSError):
                info = folder.lstat()
                if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
                    continue  # a symbolic link, a file, or another user's folder
                if _stale(folder, info):
                    removed.append(folder)
    return removed


def _stale(folder: Path, info: os.stat_result) -> bool:
    """Whether ``folder`` is left by a dead process; if so, remove it (holding its lock)."""
    try:
        handle = (folder / _HELD).open("r")
    except FileNotFoundError:
        if time.time() - info.st_mtime < UNLOCKED_SCRATCH_TTL:
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # held by a live process
        shutil.rmtree(folder, ignore_errors=True)
        return True


# -- writers ----------------------------------------------------------------------------------------


@contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """One writer at a time per database (imports, demo rebuilds, rollbacks), across processes.

    A second writer waits; without this, two imports that copied the same version would each
    publish their copy and the later one would silently drop the other's rows.
    """
    lock_path = path.with_name(path.name + ".lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# What a killed writer leaves beside the database: an import's or upgrade's working copy (and
# its WAL), a rollback's copy. Readers never open them; the next writer removes them.
_WORKING_COPY_SUFFIXES = (".new", ".new.wal", ".rollback")


def _remove_stale_copies(path: Path) -> None:
    """Copies left by a writer that was killed (only called while holding the writer lock)."""
    for suffix in _WORKING_COPY_SUFFIXES:
        for stale in path.parent.glob(f".{path.name}.*{suffix}"):
            stale.unlink(missing_ok=True)


def _working_copy(path: Path, suffix: str) -> tuple[Path, int]:
    """A new empty file ``.<name>.<random><suffix>`` beside ``path``, and the mode a new file gets
    here (0666 less the umask: unlike ``mkstemp``'s 0600, which readers running as another user
    could not open)."""
    while True:
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(6)}{suffix}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            return candidate, stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)


def _give_access(copy: Path, published: Path, default_mode: int) -> None:
    """Give ``copy`` the mode, owner and group of the ``published`` file it will replace (a new
    database: ``default_mode``), so whoever could read the database still can after a publish.

    The owner can be kept only by root; otherwise the group is kept if this user is in it."""
    try:
        before = os.stat(published)
    except FileNotFoundError:
        os.chmod(copy, default_mode)
        return
    for owner in (before.st_uid, -1):
        try:
            os.chown(copy, owner, before.st_gid)
            break
        except PermissionError:
            continue
    os.chmod(copy, stat.S_IMODE(before.st_mode))  # after chown, which may clear setgid bits

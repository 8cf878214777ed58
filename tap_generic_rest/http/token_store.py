"""Where rotated OAuth tokens live between runs: one JSON file, written safely.

A rotating refresh token (Jira Cloud's 3LO) works once: the token endpoint answers with a
new one and the old one stops working, and using an old one again may revoke the whole
grant. So the new token is written here *before* the access token that came with it is
used, and a run never holds a token that is not on disk. Writes are atomic (a temporary
file in the same folder, fsync, rename, fsync of the folder), the file and its lock file
are created with mode 0600, and an exclusive ``fcntl`` lock on ``<file>.lock`` makes a
second run wait while one refreshes (then read what the first one wrote).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import stat
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tap_generic_rest.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator

#: How long a run waits for another run's refresh before it gives up (seconds).
LOCK_WAIT_SECONDS = 60.0
_POLL_SECONDS = 0.05
_FORMAT = 1


def digest(secret: str) -> str:
    """A one-way fingerprint of a setting's value (which refresh token a chain started from)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class StoredTokens:
    """The tokens of one grant, as the last refresh left them."""

    refresh_token: str
    #: Fingerprint of the ``refresh_token`` setting this chain of rotations started from: a
    #: new value in the setting (the user consented again) starts a new chain.
    seeded_from: str
    access_token: str | None = None
    #: When the access token expires (epoch seconds); None: unknown.
    expires_at: float | None = None

    def access_valid(self, now: float, margin: float) -> bool:
        """Whether the stored access token still has ``margin`` seconds to live."""
        return (
            bool(self.access_token)
            and self.expires_at is not None
            and self.expires_at - margin > now
        )


class TokenStore:
    """One token file (``oauth_token_file``): read, written atomically, locked while refreshing."""

    def __init__(
        self,
        path: str | Path,
        *,
        setting: str = "oauth_token_file",
        lock_wait: float = LOCK_WAIT_SECONDS,
    ) -> None:
        self.path = Path(path).expanduser()
        self.setting = setting
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_wait = lock_wait

    @contextlib.contextmanager
    def locked(self) -> Iterator[TokenStore]:
        """Hold the store's exclusive lock (waiting, boundedly, for another run's refresh)."""
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise self._error(f"its lock file cannot be opened ({exc.strerror})") from None
        try:
            deadline = time.monotonic() + self.lock_wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        msg = f"another run has held its lock for over {self.lock_wait:g} s"
                        raise self._error(msg) from None
                    time.sleep(_POLL_SECONDS)
            try:
                yield self
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def read(self) -> StoredTokens | None:
        """The stored tokens; None when there is no file yet (the first run)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error(f"it cannot be read ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise self._error(
                    f"others may read it (mode {stat.S_IMODE(mode):04o}); chmod 600 it"
                )
            raw = handle.read()
        try:
            data: Any = json.loads(raw)
            tokens = StoredTokens(
                refresh_token=str(data["refresh_token"]),
                seeded_from=str(data["seeded_from"]),
                access_token=data.get("access_token"),
                expires_at=data.get("expires_at"),
            )
        except (ValueError, KeyError, TypeError):
            raise self._error("it is not a token file this tap wrote") from None
        if not tokens.refresh_token:
            raise self._error("it holds no refresh token")
        return tokens

    def write(self, tokens: StoredTokens) -> None:
        """Replace the file with ``tokens``: all or nothing, on disk before this returns."""
        folder = self.path.parent
        tmp = folder / f".{self.path.name}.{os.getpid()}.tmp"
        data = json.dumps({"format": _FORMAT, **asdict(tokens)}).encode()
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_EXCL, 0o600)
        except FileExistsError:  # left by a killed run of the same pid: never ours to trust
            tmp.unlink()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise self._error(f"it cannot be written in {folder} ({exc.strerror})") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise self._error(f"it cannot be written ({exc.strerror})") from None
        _fsync_dir(folder)

    def _error(self, reason: str) -> ConfigError:
        return ConfigError(f"setting '{self.setting}': token file {self.path}: {reason}")


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

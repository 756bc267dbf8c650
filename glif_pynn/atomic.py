"""Files written whole or not at all: a reader (or a resumed run) never sees half a file."""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Union


def write_text(path: Union[str, Path], text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file beside it, moved into place at the end; on any
    error the temporary file is removed and ``path`` keeps what it held. Parent folders are created.

    An empty path or a folder is a ValueError naming it; an OSError (a read-only or missing place, a full
    disk) is raised again, of the same kind, naming ``path`` rather than the temporary file."""
    if not str(path) or Path(path).is_dir():
        raise ValueError(f"cannot write a file at {str(path)!r}: " + ("an empty path" if not str(path) else
                                                                        "it is a folder"))
    path = Path(path)
    tmp = None
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError as err:           # a file where a parent folder should be
            raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path.parent)) from err
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, usual_mode(0o666))       # mkstemp makes the file private; give it the usual mode
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise _named(err, path) from err
        raise
    return path


def usual_mode(bits: int) -> int:
    """``bits`` less the process's umask: the mode ``open`` (0o666) or ``mkdir`` (0o777) would give, for a
    file or folder that ``tempfile`` made private."""
    umask = os.umask(0)
    os.umask(umask)
    return bits & ~umask


def _named(err: OSError, path: Union[str, Path]) -> OSError:
    """``err`` again, of the same kind (PermissionError, FileNotFoundError, ...), naming ``path``."""
    if err.errno is None:
        return OSError(f"cannot write {path}: {err}")
    return OSError(err.errno, err.strerror, str(path))    # OSError(errno, ...) is the errno's subclass

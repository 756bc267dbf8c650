"""Files written whole or not at all: a reader (or a resumed run) never sees half a file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Union


def write_text(path: Union[str, Path], text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file beside it, moved into place at the end; on any
    error the temporary file is removed and ``path`` keeps what it held. Parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)          # mkstemp makes the file private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

"""Writing a fit's files into a folder: checked before the fit, then written whole or not at all.

:func:`check_output` (called by ``glif-pynn fit`` before it reads anything) and :func:`write_folder`
(called by :meth:`glif_pynn.fit.result.FitResult.save`) refuse, with an OSError naming the problem, a
path that is a file, an output name that is a folder, a folder that cannot be written and, unless
overwriting is allowed, a folder that already holds a fit's files. The files are written into a
temporary folder first: a new folder is that one renamed into place; in an existing one each file is
moved in with one rename, and a failed move puts back what was there.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Sequence, Union

from glif_pynn.atomic import usual_mode

#: What :meth:`glif_pynn.fit.result.FitResult.save` writes into its folder.
OUTPUT_FILES = ("parameters.json", "neuron_config.json", "report.md", "fit.png")


def check_output(directory: Union[str, Path], overwrite: bool = False,
                 names: Sequence[str] = OUTPUT_FILES) -> None:
    """Raise an OSError with a one-line message naming the problem unless :func:`write_folder` can write
    ``names`` (default :data:`OUTPUT_FILES`) into ``directory``: it is a folder or absent (and then its
    nearest existing parent is a folder), none of ``names`` in it is a folder, a folder can be created in
    it (or in that parent; the test folder is removed at once) and, unless ``overwrite``, it holds none of
    them (FileExistsError). Writes nothing: the fit's command calls it before reading and fitting."""
    directory = Path(os.path.abspath(directory))      # "missing/../out" is out, as write_folder makes it
    existing = directory
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "" if existing == directory else f" (cannot create {directory} in it)"
        kind = "a file, not a folder" if existing.is_file() else "not a folder"
        raise NotADirectoryError(f"{existing} is {kind}{where}")
    if existing == directory:
        folders = [name for name in names if (directory / name).is_dir()]
        if folders:
            raise IsADirectoryError(f"{directory} holds a folder named {', '.join(folders)}, where the fit "
                                    "writes a file of that name")
    try:
        os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".glif-pynn-write-test-"))
    except OSError as err:
        target = f"write into {directory}" if existing == directory else f"create {directory}"
        raise type(err)(f"cannot {target}: {err.strerror or err} ({existing})") from err
    if existing == directory and not overwrite:
        old = [name for name in names if os.path.lexists(directory / name)]
        if old:
            raise FileExistsError(f"{directory} already holds {', '.join(old)} of an earlier fit")


def _make_folders(folder: Path) -> list:
    """Create ``folder`` and its missing parents; the folders created, outermost first."""
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    made = []
    try:
        for path in reversed(missing):
            path.mkdir()
            made.append(path)
    except BaseException:
        for path in reversed(made):
            path.rmdir()
        raise
    return made


def _move_into(tmp: Path, directory: Path, names: Sequence[str]) -> None:
    """Move ``names`` from ``tmp`` into ``directory``, each with one rename (a reader sees the old
    file or the new one); on an error put back the files of ``directory`` as they were (kept as hard links or
    copies in ``tmp``) and raise an OSError that says what ``directory`` now holds."""
    backup = tmp / ".earlier"
    backup.mkdir()
    for name in names:
        if os.path.lexists(directory / name):
            try:
                os.link(directory / name, backup / name, follow_symlinks=False)
            except OSError:
                shutil.copy2(directory / name, backup / name, follow_symlinks=False)
    moved = []
    try:
        for name in names:
            os.replace(tmp / name, directory / name)
            moved.append(name)
    except BaseException as err:                       # an OSError, or an interrupt between two moves
        kept = []
        for done in moved:
            try:
                if os.path.lexists(backup / done):
                    os.replace(backup / done, directory / done)
                else:
                    os.unlink(directory / done)
            except OSError:
                kept.append(done)
        if not isinstance(err, OSError):
            raise
        failed = names[len(moved)]
        state = (f"{', '.join(kept)} in it are the new ones, the other files as they were" if kept
                 else "it holds what it held before")
        raise OSError(f"could not move {failed} into {directory} ({err}); {state}") from err


def write_folder(directory: Union[str, Path], names: Sequence[str], write: Callable[[Path], None],
                 overwrite: bool = True) -> dict:
    """``write(folder)`` writes the files ``names`` into a temporary folder, which then becomes ``directory``
    (created with its parents) or whose files replace those in it; returns ``{name: path}``. :func:`check_output`
    first; on any failure nothing new is left behind, and an existing folder holds what it held."""
    directory = Path(os.path.abspath(directory))      # as check_output reads it
    check_output(directory, overwrite, names)
    made = _make_folders(directory.parent)
    try:
        fresh = not os.path.lexists(directory)
        tmp = Path(tempfile.mkdtemp(dir=directory.parent if fresh else directory,
                                    prefix=f".{directory.name}-" if fresh else ".glif-pynn-fit-"))
        try:
            write(tmp)
            if fresh:
                os.chmod(tmp, usual_mode(0o777))   # mkdtemp makes the folder private; give it the usual mode
                os.rename(tmp, directory)          # the folder appears complete or not at all
            else:
                _move_into(tmp, directory, names)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        for folder in reversed(made):              # parents this call created, deepest first
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    return {name: directory / name for name in names}

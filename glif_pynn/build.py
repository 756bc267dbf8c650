"""Build the NESTML GLIF models into a NEST extension module, cached and locked.

The module ``glifmodule`` is generated from ``nestml_models/*.nestml`` by NESTML,
compiled with CMake against the NEST that this Python imports, and kept in a cache
directory keyed by everything that determines the binary: the NESTML sources, the
NEST and NESTML versions, the effective ``nest-config`` output and the compiler
flags. A build happens once per key, under a file lock, so that several processes
or MPI ranks asking at the same time wait for one build. The finished module is
moved into place with an atomic rename and described by a manifest holding its
SHA-256, so that a half-written or corrupted file is detected and rebuilt.

Environment
-----------
GLIF_PYNN_CACHE_DIR
    Cache root. Default: ``$XDG_CACHE_HOME/glif-pynn`` or ``~/.cache/glif-pynn``.
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from glif_pynn.errors import BuildError
from glif_pynn.toolchain import NestToolchain, check_prerequisites, describe_missing_header, detect_toolchain

MODULE_NAME = "glifmodule"
#: Bumped whenever this recipe changes in a way that changes the binary.
RECIPE_VERSION = "3"
#: Code that shapes the generated C++ besides the .nestml files; its text is part of the cache key.
RECIPE_SOURCES = tuple(Path(__file__).resolve().parent / name for name in ("_codegen.py", "codegen_patches.py"))
MODEL_DIR = Path(__file__).resolve().parent.parent / "nestml_models"
MODEL_NAMES = ("glif_psc_exp_neuron", "glif_psc_alpha_neuron", "glif_cond_exp_neuron", "glif_cond_alpha_neuron")

Progress = Callable[[str], None]


def _stderr_progress(message: str) -> None:
    print(f"glif-pynn: {message}", file=sys.stderr, flush=True)


def cache_root() -> Path:
    """Directory that holds built modules, one sub-directory per cache key."""
    if os.environ.get("GLIF_PYNN_CACHE_DIR"):
        return Path(os.environ["GLIF_PYNN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "glif-pynn"


def model_sources(model_dir: Path = MODEL_DIR) -> list[Path]:
    sources = sorted(model_dir.glob("*.nestml"))
    expected = MODEL_NAMES if model_dir == MODEL_DIR else ()
    missing = [name for name in expected if model_dir / f"{name}.nestml" not in sources]
    if missing or not sources:
        raise BuildError(f"NESTML sources missing from {model_dir}: {', '.join(missing) or '*.nestml'}")
    return sources


def cache_key(toolchain: NestToolchain, model_dir: Path = MODEL_DIR) -> str:
    """SHA-256 over everything that determines the built module."""
    digest = hashlib.sha256()
    for path in model_sources(model_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for path in RECIPE_SOURCES:
        digest.update(path.read_bytes() + b"\0")
    for item in (RECIPE_VERSION, MODULE_NAME, toolchain.nest_version, _nestml_version(),
                 toolchain.fingerprint(), sys.implementation.cache_tag):
        digest.update(str(item).encode() + b"\0")
    return digest.hexdigest()


def _nestml_version() -> str:
    try:
        return importlib.metadata.version("nestml")
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class CachedModule:
    """A built module in the cache."""

    directory: Path
    key: str

    @property
    def library(self) -> Path:
        return self.directory / f"{MODULE_NAME}.so"

    @property
    def manifest(self) -> Path:
        return self.directory / "manifest.json"

    def problem(self) -> Optional[str]:
        """Why this cache entry cannot be used, or None when it is valid."""
        if not self.directory.exists():
            return "not built"
        try:
            manifest = json.loads(self.manifest.read_text())
        except (OSError, ValueError) as err:
            return f"manifest unreadable ({err})"
        if manifest.get("key") != self.key:
            return "manifest belongs to another build"
        if not self.library.is_file():
            return f"{self.library.name} missing"
        if _file_sha256(self.library) != manifest.get("sha256"):
            return f"{self.library.name} does not match its recorded checksum (corrupt or modified)"
        return None


def ensure_module(force: bool = False, progress: Optional[Progress] = None,
                  model_dir: Path = MODEL_DIR) -> Path:
    """Return the path of a valid built ``glifmodule.so``, building it if needed.

    Parameters
    ----------
    force
        Rebuild even when the cache holds a valid module.
    progress
        Called with one line of text per build stage. Default: print to stderr.
    model_dir
        Directory of the NESTML sources. Default: the package's ``nestml_models``.

    Raises
    ------
    BuildError
        When a prerequisite is missing or a build stage fails; the message names
        the missing piece and the log file.
    """
    progress = progress or _stderr_progress
    toolchain = detect_toolchain()
    key = cache_key(toolchain, model_dir)
    root = cache_root()
    entry = CachedModule(root / key[:20], key)
    if not force and entry.problem() is None:
        return entry.library
    root.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(root / f"{key[:20]}.lock", progress):
        problem = entry.problem()
        if not force and problem is None:   # another process built it while we waited
            return entry.library
        if problem not in (None, "not built"):
            progress(f"cached module unusable: {problem}; rebuilding")
        _build_into(entry, toolchain, model_dir, progress)
    return entry.library


class _exclusive_lock:
    """An flock held for the duration of a with-block, announcing when it has to wait."""

    def __init__(self, path: Path, progress: Progress):
        self.path, self.progress = path, progress

    def __enter__(self):
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.progress("another process is building the module; waiting for it")
            fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _build_into(entry: CachedModule, toolchain: NestToolchain, model_dir: Path, progress: Progress) -> None:
    root = entry.directory.parent
    log_path = root / "logs" / f"{entry.key[:20]}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{entry.key[:20]}.staging-", dir=root))
    started = time.monotonic()
    try:
        with open(log_path, "w") as log:
            progress(f"building NEST module {MODULE_NAME} against NEST {toolchain.nest_version} "
                     f"({toolchain.description}); log: {log_path}")
            check_prerequisites(toolchain, staging, log)
            work = staging / "work"
            (work / "src").mkdir(parents=True)
            nest_config = toolchain.write_nest_config(staging / "nest-config-dir")
            progress("[1/3] generating C++ from NESTML (about 30 s)")
            _run_stage("NESTML code generation",
                       [sys.executable, "-m", "glif_pynn._codegen", str(model_dir), str(work / "src"),
                        MODULE_NAME, toolchain.nest_version], log, log_path, cwd=staging)
            progress("[2/3] configuring with CMake")
            build_dir = work / "build"
            build_dir.mkdir(parents=True)
            _run_stage("CMake configuration",
                       ["cmake", f"-Dwith-nest={nest_config}", f"-DCMAKE_INSTALL_PREFIX={work / 'install'}",
                        str(work / "src")], log, log_path, cwd=build_dir)
            jobs = str(max(1, min(4, len(os.sched_getaffinity(0)))))
            progress(f"[3/3] compiling (make -j{jobs}, about 1 min)")
            _run_stage("C++ compilation", ["make", f"-j{jobs}"], log, log_path, cwd=build_dir)
            built = next(build_dir.rglob(f"{MODULE_NAME}.so"), None)
            if built is None:
                raise BuildError(f"the build finished without producing {MODULE_NAME}.so; see {log_path}")
            result = staging / "result"
            result.mkdir()
            shutil.copy2(built, result / f"{MODULE_NAME}.so")
            # the generated C++ stays beside the module, for reading and profiling
            shutil.copytree(work / "src", result / "src")
            manifest = {"key": entry.key, "sha256": _file_sha256(result / f"{MODULE_NAME}.so"),
                        "nest_version": toolchain.nest_version, "nestml_version": _nestml_version(),
                        "toolchain": toolchain.description, "built": time.strftime("%Y-%m-%dT%H:%M:%S")}
            (result / "manifest.json").write_text(json.dumps(manifest, indent=2))
            if entry.directory.exists():
                shutil.rmtree(entry.directory)
            os.rename(result, entry.directory)   # atomic: the entry appears complete or not at all
        progress(f"built {entry.library} in {time.monotonic() - started:.0f} s")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _run_stage(stage: str, command: list[str], log, log_path: Path, cwd: Path) -> None:
    log.write(f"\n=== {stage}: {' '.join(command)}\n")
    log.flush()
    # The child must not join an MPI job of ours (it would import NEST), and must find this package.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "PMI_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                     env.get("PYTHONPATH")]))
    result = subprocess.run(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env)
    if result.returncode != 0:
        log.flush()
        hint = _diagnose(log_path)
        raise BuildError(f"{stage} failed (exit code {result.returncode}).{hint} Full log: {log_path}")


def _diagnose(log_path: Path) -> str:
    """A one-line hint from the tail of a failed build log."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        if "fatal error:" in line and "No such file" in line:
            header = line.split("fatal error:")[1].split(":")[0].strip()
            return " " + describe_missing_header(header)
    errors = [line for line in text.splitlines() if ", ERROR," in line or " error: " in line]
    tail = errors[:5] or [line for line in text.splitlines() if line.strip()][-5:]
    return " Last lines:\n  " + "\n  ".join(tail) + "\n"


def is_current_build_cached(model_dir: Path = MODEL_DIR) -> bool:
    """True when a valid module for the current sources and NEST is in the cache."""
    toolchain = detect_toolchain()
    key = cache_key(toolchain, model_dir)
    return CachedModule(cache_root() / key[:20], key).problem() is None


def nest_is_importable() -> bool:
    return importlib.util.find_spec("nest") is not None

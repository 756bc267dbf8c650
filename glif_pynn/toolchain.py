"""Find the NEST that Python imports and the flags needed to build a module against it.

NEST is located without importing it (importing NEST initialises its kernel and,
with MPI, MPI itself). Two kinds of installation are recognised:

* an installation whose ``nest-config`` is correct (a source build, for instance
  with MPI): its values are used as they are;
* the pip wheel, whose ``nest-config`` names a temporary build prefix that no
  longer exists: the prefix and include directory are replaced by the wheel's
  own, no library is linked (the wheel's kernel exports its symbols when Python
  loads it) and the compiler is ``g++``.

In both cases the C++ string ABI of the NEST kernel is read from its exported
symbols, and ``-D_GLIBCXX_USE_CXX11_ABI=0`` is added when NEST uses the old one.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Optional

from glif_pynn.errors import BuildError, ToolchainError

#: Headers that NEST's own headers include, with the Debian package that ships each.
REQUIRED_HEADERS = {
    "boost/type_index.hpp": ("HAVE_BOOST", "libboost-dev"),
    "ltdl.h": ("HAVE_LIBLTDL", "libltdl-dev"),
    "gsl/gsl_odeiv.h": ("HAVE_GSL", "libgsl-dev"),
}
#: Debian packages for other headers a build can miss, by header path prefix.
HEADER_PACKAGES = {"boost/": "libboost-dev", "ltdl.h": "libltdl-dev", "gsl/": "libgsl-dev", "mpi.h": "libopenmpi-dev"}

_OLD_ABI_MARKER = b"get_synaptic_elementsESs"
_NEW_ABI_MARKER = b"get_synaptic_elementsENSt7__cxx11"


def describe_missing_header(header: str) -> str:
    """A sentence naming a missing header and the Debian package that provides it."""
    for prefix, package in HEADER_PACKAGES.items():
        if header.startswith(prefix):
            return f"The header <{header}> is missing: install it with `apt-get install {package}`."
    return f"The header <{header}> is missing."


@dataclass(frozen=True)
class NestToolchain:
    """What a module build needs to know about the NEST installation."""

    package_dir: Path
    nest_version: str
    prefix: str
    includes: str
    cflags: str
    libs: str
    compiler: str
    libdir: str
    kernel_libraries: tuple[Path, ...]
    wheel: bool

    @cached_property
    def extra_cflags(self) -> str:
        """Flags added to nest-config's: the string ABI of NEST's kernel (read from its symbols)."""
        return _abi_flag(self.kernel_libraries)

    @property
    def description(self) -> str:
        kind = "pip wheel, corrected nest-config" if self.wheel else f"nest-config of {self.prefix}"
        abi = "old C++ string ABI" if "_GLIBCXX_USE_CXX11_ABI=0" in self.extra_cflags else "C++11 string ABI"
        return f"{kind}, {abi}"

    def fingerprint(self) -> str:
        """Everything that changes the compiled module, as one string.

        The kernel libraries enter by identity (path, size, time stamp), which also
        fixes the string ABI read from them, so that a cache hit reads no library.
        """
        libs = [f"{p}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in self.kernel_libraries]
        return "|".join([self.prefix, self.includes, self.cflags, self.libs,
                         self.compiler, *libs])

    def write_nest_config(self, directory: Path) -> Path:
        """Write a ``nest-config`` that prints this toolchain's values; return its path."""
        (directory / "bin").mkdir(parents=True, exist_ok=True)
        path = directory / "bin" / "nest-config"
        values = {"--prefix": self.prefix, "--exec-prefix": self.prefix, "--includes": self.includes,
                  "--cflags": f"{self.cflags} {self.extra_cflags}".strip(), "--libs": self.libs,
                  "--compiler": self.compiler, "--version": self.nest_version, "--libdir": self.libdir,
                  "--static-libraries": "OFF"}
        cases = "\n".join(f"  {opt}) echo {_sh_quote(val)} ;;" for opt, val in values.items())
        path.write_text(f"#!/bin/sh\n# written by glif_pynn.toolchain\ncase \"$1\" in\n{cases}\n"
                        f"  *) echo \"unsupported option $1\" >&2; exit 1 ;;\nesac\n")
        path.chmod(0o755)
        return path


def _sh_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _nest_package_dir() -> Path:
    spec = importlib.util.find_spec("nest")
    if spec is None or not spec.submodule_search_locations:
        raise ToolchainError("NEST's Python package is not importable: install it with "
                             "`pip install nest-simulator` (or build NEST from source).")
    return Path(list(spec.submodule_search_locations)[0])


def _find_nest_config(package_dir: Path) -> Path:
    candidates = [Path(sys.executable).parent / "nest-config"]
    candidates += [parent / "bin" / "nest-config" for parent in package_dir.parents]
    which = shutil.which("nest-config")
    if which:
        candidates.append(Path(which))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ToolchainError(f"no nest-config found for the NEST package in {package_dir} "
                         f"(looked in {', '.join(str(c.parent) for c in candidates[:3])} and PATH)")


def _query(nest_config: Path, option: str) -> str:
    try:
        out = subprocess.run([str(nest_config), option], capture_output=True, text=True, timeout=30)
    except OSError as err:
        raise ToolchainError(f"cannot run {nest_config}: {err}") from err
    return out.stdout.strip() if out.returncode == 0 else ""


def _kernel_libraries(package_dir: Path, prefix: str) -> tuple[Path, ...]:
    found = sorted(package_dir.glob("*.so"))
    if Path(prefix).is_dir():
        for libdir in ("lib", "lib64"):
            found += sorted((Path(prefix) / libdir / "nest").glob("libnest*.so"))
    return tuple(found)


def _abi_flag(libraries: tuple[Path, ...]) -> str:
    """``-D_GLIBCXX_USE_CXX11_ABI=0`` when NEST's kernel uses the old string ABI, else ''."""
    for library in libraries:
        data = library.read_bytes()
        if _NEW_ABI_MARKER in data:
            return ""
        if _OLD_ABI_MARKER in data:
            return "-D_GLIBCXX_USE_CXX11_ABI=0"
    return ""


def detect_toolchain() -> NestToolchain:
    """Describe the NEST that ``import nest`` would load, without importing it."""
    package_dir = _nest_package_dir()
    nest_config = _find_nest_config(package_dir)
    version = _query(nest_config, "--version")
    if not version:
        raise ToolchainError(f"{nest_config} --version printed nothing; the NEST installation is broken")
    prefix = _query(nest_config, "--prefix")
    includes = _query(nest_config, "--includes")
    include_dirs = [flag[2:] for flag in includes.split() if flag.startswith("-I")]
    correct = Path(prefix).is_dir() and any((Path(d) / "nest.h").is_file() or (Path(d) / "config.h").is_file()
                                          for d in include_dirs)
    if correct:
        kernel = _kernel_libraries(package_dir, prefix)
        return NestToolchain(package_dir, version, prefix, includes, _query(nest_config, "--cflags"),
                             _query(nest_config, "--libs"), _query(nest_config, "--compiler") or "g++",
                             _query(nest_config, "--libdir") or "lib", kernel, wheel=False)
    wheel_includes = package_dir / "include" / "nest"
    if not (wheel_includes / "config.h").is_file():
        raise ToolchainError(f"{nest_config} names a prefix that does not exist ({prefix}) and the NEST "
                             f"package has no headers in {wheel_includes}: reinstall NEST")
    cflags = " ".join(f for f in _query(nest_config, "--cflags").split() if not f.startswith("-fdiagnostics"))
    kernel = _kernel_libraries(package_dir, str(package_dir))
    return NestToolchain(package_dir, version, str(package_dir), f"-I{wheel_includes}", cflags, "", "g++",
                         "lib", kernel, wheel=True)


def _nest_config_h(toolchain: NestToolchain) -> str:
    for flag in toolchain.includes.split():
        candidate = Path(flag[2:]) / "config.h" if flag.startswith("-I") else None
        if candidate and candidate.is_file():
            return candidate.read_text(errors="replace")
    return ""


def check_prerequisites(toolchain: NestToolchain, scratch: Path, log: Optional[IO[str]] = None,
                        headers: Optional[dict] = None) -> None:
    """Fail early, with the fix, when cmake, make, the compiler or a header NEST needs is missing.

    Parameters
    ----------
    headers
        ``{header: (config.h macro or None, Debian package)}`` to check. Default:
        the headers NEST's own headers include, as NEST's config.h enables them.
    """
    for tool, package in (("cmake", "cmake"), ("make", "make"), (toolchain.compiler, "g++")):
        if shutil.which(tool) is None:
            raise BuildError(f"`{tool}` is not installed or not on PATH: install it with "
                             f"`apt-get install {package}`.")
    config_h = _nest_config_h(toolchain)
    headers = REQUIRED_HEADERS if headers is None else headers
    probe = scratch / "header_probe.cpp"
    for header, (macro, package) in headers.items():
        if macro and not re.search(rf"#define {macro}\b", config_h):
            continue
        probe.write_text(f"#include <{header}>\n")
        result = subprocess.run([toolchain.compiler, "-E", *toolchain.includes.split(), str(probe)],
                                capture_output=True, text=True)
        if log is not None:
            log.write(f"header check <{header}>: {'found' if result.returncode == 0 else 'MISSING'}\n")
        if result.returncode != 0:
            raise BuildError(f"The header <{header}>, which NEST's headers include, is missing: install it "
                             f"with `apt-get install {package}`.")

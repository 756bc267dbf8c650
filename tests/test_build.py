"""The module build: cache hits, corrupt caches, concurrent builds, clear errors.

To keep cold builds short these tests build a module from the one model
glif_psc_exp_neuron into a private cache directory (about 30 s per build).
"""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from glif_pynn import build, model_sources
from glif_pynn.build import BuildError, CachedModule, ensure_module
from glif_pynn.toolchain import check_prerequisites, detect_toolchain

pytestmark = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")


@pytest.fixture(scope="module")
def one_model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("models")
    model_sources.write_sources(directory, [model_sources.ModelSpec("psc_exp")])
    return directory


@pytest.fixture(scope="module")
def built(one_model_dir, tmp_path_factory):
    """A cold build into a fresh cache: (cache dir, library path, progress lines)."""
    cache = tmp_path_factory.mktemp("cache")
    os.environ["GLIF_PYNN_CACHE_DIR"] = str(cache)
    try:
        lines = []
        library = ensure_module(progress=lines.append, model_dir=one_model_dir)
    finally:
        del os.environ["GLIF_PYNN_CACHE_DIR"]
    return cache, library, lines


@pytest.fixture
def cache_env(built, monkeypatch):
    monkeypatch.setenv("GLIF_PYNN_CACHE_DIR", str(built[0]))
    return built


def test_cold_build_reports_progress_and_produces_a_valid_entry(built, one_model_dir):
    cache, library, lines = built
    assert library.is_file() and library.parent.parent == cache
    assert any("[1/3]" in line for line in lines) and any("[3/3]" in line for line in lines)
    key = library.parent.name
    assert CachedModule(library.parent, build.cache_key(detect_toolchain(), one_model_dir)).problem() is None
    assert not list(cache.glob(f"{key}.staging-*")), "the staging directory must be removed"


def test_cache_hit_does_not_rebuild(cache_env, one_model_dir):
    _, library, _ = cache_env
    mtime = library.stat().st_mtime_ns
    lines = []
    assert ensure_module(progress=lines.append, model_dir=one_model_dir) == library
    assert lines == [], "a valid cache must not print or build anything"
    assert library.stat().st_mtime_ns == mtime


def test_changed_source_changes_the_key(one_model_dir, tmp_path):
    changed = tmp_path / "models"
    shutil.copytree(one_model_dir, changed)
    path = changed / "glif_psc_exp_neuron.nestml"
    path.write_text(path.read_text() + "\n# a comment\n")
    toolchain = detect_toolchain()
    assert build.cache_key(toolchain, changed) != build.cache_key(toolchain, one_model_dir)


def test_corrupted_cached_library_is_rebuilt(cache_env, one_model_dir):
    _, library, _ = cache_env
    with open(library, "r+b") as handle:   # a half-written or damaged file
        handle.truncate(library.stat().st_size // 2)
    lines = []
    assert ensure_module(progress=lines.append, model_dir=one_model_dir) == library
    assert any("does not match its recorded checksum" in line for line in lines), lines
    assert any("[3/3]" in line for line in lines), "it must be rebuilt"
    assert CachedModule(library.parent, build.cache_key(detect_toolchain(), one_model_dir)).problem() is None


def test_missing_manifest_is_rebuilt(cache_env, one_model_dir):
    _, library, _ = cache_env
    (library.parent / "manifest.json").unlink()
    lines = []
    ensure_module(progress=lines.append, model_dir=one_model_dir)
    assert any("manifest unreadable" in line for line in lines), lines
    assert (library.parent / "manifest.json").is_file()


def test_two_processes_building_at_once_both_succeed_with_one_build(one_model_dir, tmp_path):
    script = textwrap.dedent(f"""
        from pathlib import Path
        from glif_pynn.build import ensure_module
        print(ensure_module(model_dir=Path({str(one_model_dir)!r})))
    """)
    env = dict(os.environ, GLIF_PYNN_CACHE_DIR=str(tmp_path / "cache"))
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [proc.communicate(timeout=600) + (proc.returncode,) for proc in procs]
    assert [rc for _, _, rc in results] == [0, 0], results
    assert len({out.strip() for out, _, _ in results}) == 1, "both must get the same library"
    builds = sum(err.count("[3/3] compiling") for _, err, _ in results)
    waits = sum(err.count("another process is building") for _, err, _ in results)
    assert builds == 1, results
    assert waits == 1, results
    assert len(list((tmp_path / "cache").glob("*/glifmodule.so"))) == 1


def test_a_cache_without_file_locks_is_named_with_the_fix(one_model_dir, tmp_path, monkeypatch):
    """flock fails with ENOLCK on an NFS mount without lock daemon (or EOPNOTSUPP elsewhere): a cold build says
    so and what to do, before anything is built, instead of an OSError from deep inside."""
    import errno
    import fcntl

    def no_locks(handle, operation):
        if operation & fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))
        return fcntl.flock(handle, operation)

    monkeypatch.setenv("GLIF_PYNN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(build.fcntl, "flock", no_locks)
    with pytest.raises(BuildError, match=r"cannot lock .*\.lock \(No locks available\): the module cache lies on a "
                                         r"file system without file locks.*GLIF_PYNN_CACHE_DIR.*glif-pynn build"):
        ensure_module(progress=lambda line: None, model_dir=one_model_dir)
    assert not list((tmp_path / "cache").glob("*staging*")), "nothing started"


def test_an_unwritable_cache_is_named_with_the_fix(one_model_dir, tmp_path, monkeypatch):
    """(Made unwritable by a stand-in for open(): the tests may run as root, whom permissions do not stop.)"""
    def read_only(path, mode="r", *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setenv("GLIF_PYNN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(build, "open", read_only, raising=False)
    with pytest.raises(BuildError, match=r"cannot write to the module cache .*cache \(Permission denied\): set "
                                         r"GLIF_PYNN_CACHE_DIR to a writable directory"):
        ensure_module(progress=lambda line: None, model_dir=one_model_dir)


def test_missing_header_names_the_header_and_the_debian_package(tmp_path):
    with pytest.raises(BuildError, match=r"<glif_no_such_header\.h>.*apt-get install libglif-dev"):
        check_prerequisites(detect_toolchain(), tmp_path,
                            headers={"glif_no_such_header.h": (None, "libglif-dev")})


def test_headers_nest_needs_are_found_here(tmp_path):
    check_prerequisites(detect_toolchain(), tmp_path)   # raises when boost, ltdl or GSL headers are missing


def test_missing_cmake_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))   # nothing on PATH
    with pytest.raises(BuildError, match=r"`cmake` is not installed.*apt-get install cmake"):
        check_prerequisites(detect_toolchain(), tmp_path)


def test_failed_build_shows_the_error_and_points_to_the_log(one_model_dir, tmp_path, monkeypatch):
    broken = tmp_path / "models"
    broken.mkdir()
    source = (one_model_dir / "glif_psc_exp_neuron.nestml").read_text()
    (broken / "glif_psc_exp_neuron.nestml").write_text(source.replace("V_m mV = E_L", "V_m mV = E_L +"))
    monkeypatch.setenv("GLIF_PYNN_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(BuildError, match=r"(?s)NESTML code generation failed.*missing '/' at 'mV'.*Full log: .*\.log"):
        ensure_module(progress=lambda line: None, model_dir=broken)
    assert not list((tmp_path / "cache").glob("*/glifmodule.so")), "nothing half-built may be left"

"""NESTML code generation only (no build): ``python -m glif_pynn._codegen SRC OUT MODULE NEST_VERSION [--plain]``.

Run in a subprocess because NESTML keeps global state between calls. CMake and
make are run by :mod:`glif_pynn.build`, which controls the flags and the log. The
generated neurons are then edited by :mod:`glif_pynn.codegen_patches`, unless
``--plain`` asks for NESTML's output as it is (used by the tests of those edits).
"""
import sys
from pathlib import Path


def main(source_dir: str, target_dir: str, module_name: str, nest_version: str, plain: bool = False) -> int:
    import pynestml.frontend.pynestml_frontend as frontend

    # Code generation only: glif_pynn.build runs CMake itself, with its own flags.
    frontend.builder_from_target_name = lambda name, options=None: (None, dict(options or {}))
    frontend.generate_target(source_dir, target_platform="NEST", target_path=target_dir,
                             module_name=module_name, logging_level="WARNING",
                             codegen_opts={"nest_version": f"v{nest_version}"})
    from pynestml.utils.logger import Logger, LoggingLevel
    if Logger.get_messages(level=LoggingLevel.ERROR):
        return 1
    if plain:
        return 0
    from glif_pynn.codegen_patches import CodegenPatchError, patch_generated_sources
    try:
        edited = patch_generated_sources(Path(target_dir))
    except CodegenPatchError as err:
        print(f"glif-pynn: error: {err}", file=sys.stderr)
        return 1
    print(f"glif-pynn: edited the generated update loop of {', '.join(edited)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5], plain="--plain" in sys.argv[5:]))

"""NESTML code generation only (no build): ``python -m glif_pynn._codegen SRC OUT MODULE NEST_VERSION``.

Run in a subprocess because NESTML keeps global state between calls. CMake and
make are run by :mod:`glif_pynn.build`, which controls the flags and the log.
"""
import sys


def main(source_dir: str, target_dir: str, module_name: str, nest_version: str) -> int:
    import pynestml.frontend.pynestml_frontend as frontend

    # Code generation only: glif_pynn.build runs CMake itself, with its own flags.
    frontend.builder_from_target_name = lambda name, options=None: (None, dict(options or {}))
    frontend.generate_target(source_dir, target_platform="NEST", target_path=target_dir,
                             module_name=module_name, logging_level="WARNING",
                             codegen_opts={"nest_version": f"v{nest_version}"})
    from pynestml.utils.logger import Logger, LoggingLevel
    errors = Logger.get_messages(level=LoggingLevel.ERROR)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))

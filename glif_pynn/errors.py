"""The package's typed errors, in one module that imports nothing of the package.

:mod:`glif_pynn.build` and :mod:`glif_pynn.toolchain` both raise them; keeping them here
lets the build depend on the toolchain and never the other way round. Both modules
re-export them, so ``from glif_pynn.build import BuildError`` keeps working.
"""


class BuildError(RuntimeError):
    """The NEST module could not be built; the message says what is missing and where the log is."""


class ToolchainError(RuntimeError):
    """NEST or a build tool could not be found or used."""

"""glif-pynn: a GLIF neuron in NESTML for NEST, PyNN cell types and a numpy reference.

No compilation happens here: the NEST module is built on first use (or by
``glif-pynn build``) and cached; see glif_pynn/build.py.
"""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def requirements(name: str) -> list[str]:
    lines = (HERE / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


setup(
    name="glif-pynn",
    version="0.1.0",
    description="Generalized leaky integrate-and-fire neurons for PyNN and NEST, with a numpy reference",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["glif_pynn", "glif_pynn.*", "comparisons"]),
    install_requires=requirements("requirements.txt"),
    # compare: Brian2 for comparisons/brian2_*.py; Brian2 2.9.0 fails to import with numpy >= 2.4
    # docs: Sphinx and MyST for docs/ (make docs; tests/test_docs.py builds them in make test)
    extras_require={"test": requirements("requirements-test.txt"), "docs": requirements("requirements-docs.txt"),
                    "compare": ["brian2==2.9.0", "numpy<2.4"]},
    entry_points={"console_scripts": ["glif-pynn = glif_pynn.cli:main"]},
)

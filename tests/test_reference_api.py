"""The names ``import glif_pynn.reference as sim`` offers: PyNN's backend API, pinned.

The backend is split into modules (simulator, control, populations, projections, recorder,
standardmodels/) and the package re-exports them; these tests hold the package to the names it
gave as one module, so that no name is lost, shadowed or swapped for PyNN's base class in a
re-layout. Runtime: well under a second after the import.
"""
from __future__ import annotations

import inspect
import pickle

import pytest
import pyNN.common
import pyNN.connectors
import pyNN.errors
import pyNN.parameters
import pyNN.random
import pyNN.recording
import pyNN.space

import glif_pynn.reference as sim  # noqa: E402

# what this backend defines itself (its __module__ is under glif_pynn.reference)
FUNCTIONS = ["setup", "end", "record_v", "record_gsyn", "list_standard_models", "with_ports"]
CLASSES = ["ID", "Population", "PopulationView", "Assembly", "Projection", "Recorder",
           "GLIF_curr_exp", "GLIF_curr_alpha", "GLIF_cond_exp", "GLIF_cond_alpha", "SpikeSourceArray",
           "SpikeSourcePoisson", "StaticSynapse", "DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource"]
# what PyNN builds for it (common.build_run and the like) or PyNN's own objects it passes on
BUILT = ["run", "run_until", "run_for", "reset", "initialize", "get_current_time", "get_time_step",
         "get_min_delay", "get_max_delay", "num_processes", "rank", "create", "connect", "record"]
PYNN_MODULES = {"common": pyNN.common, "errors": pyNN.errors, "random": pyNN.random,
                "recording": pyNN.recording, "space": pyNN.space}
PYNN_OBJECTS = ["Network", "NumpyRNG", "RandomDistribution", "Space", "Sequence", "ParameterSpace", "simplify",
                "get_io", "build_translations", "DEFAULT_TIMESTEP", "DEFAULT_MIN_DELAY"]
OTHERS = ["name", "state", "simulator", "CELL_TYPES", "engine", "neurons", "propagators", "quadrature", "sources"]
CONNECTORS = sorted(n for n, c in vars(pyNN.connectors).items()
                    if inspect.isclass(c) and issubclass(c, pyNN.connectors.Connector))


def test_every_name_of_the_one_module_backend_is_still_exported():
    assert len(CONNECTORS) > 10, "non-trivial: PyNN's connectors were found"
    expected = FUNCTIONS + CLASSES + BUILT + list(PYNN_MODULES) + PYNN_OBJECTS + OTHERS + CONNECTORS
    missing = sorted(set(expected) - set(dir(sim)))
    assert not missing, f"glif_pynn.reference no longer exports {missing}"


@pytest.mark.parametrize("attr", FUNCTIONS + CLASSES)
def test_backend_names_are_the_backends_own_not_pynns(attr):
    obj = getattr(sim, attr)
    assert obj.__module__.startswith("glif_pynn.reference"), f"{attr} is {obj.__module__}'s, not this backend's"
    if inspect.isfunction(obj):
        assert obj.__doc__, f"{attr} has no docstring"


def test_pynn_modules_and_objects_are_pynns():
    for attr, module in PYNN_MODULES.items():
        assert getattr(sim, attr) is module, f"sim.{attr} is not {module.__name__} (shadowed by a submodule?)"
    for attr in CONNECTORS:
        assert getattr(sim, attr) is getattr(pyNN.connectors, attr), attr
    assert sim.Sequence is pyNN.parameters.Sequence and sim.NumpyRNG is pyNN.random.NumpyRNG


def test_simulator_module_is_what_pynns_base_classes_reach():
    assert sim.simulator.state is sim.state and sim.simulator.ID is sim.ID and sim.simulator.name == sim.name
    assert sim.name == "glif_pynn.reference"
    for cls in (sim.Population, sim.PopulationView, sim.Assembly, sim.Projection, sim.Recorder):
        assert cls._simulator is sim.simulator, cls.__name__
    assert sim.Population._recorder_class is sim.Recorder and sim.Population._assembly_class is sim.Assembly
    assert issubclass(sim.Population, pyNN.common.Population)


def test_ports_types_resolve_and_pickle_after_the_split():
    four = sim.GLIF_curr_alpha_4ports
    assert four is sim.with_ports(sim.GLIF_curr_alpha, 4) and four.__name__ == "GLIF_curr_alpha_4ports"
    assert pickle.loads(pickle.dumps(four)) is four, "pickle finds an N-port type through its __module__"
    assert tuple(sim.CELL_TYPES) == (sim.GLIF_curr_exp, sim.GLIF_curr_alpha, sim.GLIF_cond_exp, sim.GLIF_cond_alpha)
    with pytest.raises(NotImplementedError, match="IF_cond_exp"):
        sim.IF_cond_exp
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        sim.no_such_name

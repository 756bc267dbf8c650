"""Edits to the C++ that NESTML generates, making each neuron-update cheaper without changing what it computes.

NESTML's NEST templates pay for generality in the innermost loop (see ``comparisons/profile_update.md``):

* every spike port has a second ring buffer of "received" flags, read every step, so that an
  ``onReceive`` block runs only in steps with input;
* every port buffer is a ``std::vector`` in its own heap block, one dependent pointer away from the node,
  and each port's ring buffer another heap block (here: the ring buffers of all spike ports share one
  allocation, the ports of a time slot side by side);
* ``origin.get_steps()`` (a tics-to-steps conversion with range checks) is recomputed for every lag
  just to stamp the recorded sample;
* a spike weight is applied as ``(0.001 * w) * 1000.`` (NESTML's ``exc_spikes * 1 s`` unit conversion),
  which differs from ``w`` by one ulp for about 13 % of weights;
* every port's buffer is copied into a grid-sum array at the start of each step, and each
  ``onReceive`` body, a function of its own, reads the copy after the update block;
* every node keeps its own copy of the internals (the propagators, about 260 bytes), which each update
  streams through the cache, although nodes with the same parameters hold the same numbers (here: nodes
  whose internals are equal, bit for bit, point to one read-only copy, which ``update()`` reads; the
  node's own copy stays, for everything else).

:func:`patch_generated_sources` rewrites these six spots in every generated neuron, and mends one flaw that is
not about speed: ``set_status`` writes new values into the node before NESTML's ``[[...]]`` guards check them,
so a refused value (NEST's BadProperty) used to stay in the node; now it is rolled back. Each edit is an exact
text or regular-expression substitution that must match a stated number of times (the per-port edits once per
spike input port, counted from the ``SynapseTypes`` enum of the neuron's header: 2 for the excitatory/inhibitory
models, N for the N-port ones; the buffer edits a fixed number of times); anything else raises
:class:`CodegenPatchError`, naming the edit, the file and the NESTML version, rather than building a module
that silently lacks the edit. Dropping the flags is exact only when every ``onReceive`` body adds a constant
times the step's weight sum to a state variable (then a step without input adds ``c * 0.0 == 0.0``); the
body of each is checked against that form before the ``if`` around its call is removed.

The edited module computes the same numbers as the unedited one, bit for bit, except that spike weights
are now applied exactly: ``tests/test_edited_module.py`` runs both builds on the same protocol.
``tests/test_codegen_patches.py`` checks the edits on fresh NESTML output, and
``tests/test_nest_module.py::test_a_spike_adds_exactly_its_weight`` the weights.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Optional, Union

from glif_pynn.codegen_headers import (PORT_BUFFERS_CODE, PORT_BUFFERS_HEADER, SHARED_INTERNALS_CODE,
                                       SHARED_INTERNALS_HEADER)

#: The NESTML release whose generated code these edits were written against (setup: requirements.txt).
WRITTEN_FOR_NESTML = "9.0.0"

_BUFFERS = r"(?:spike_inputs_|spike_inputs_grid_sum_|continuous_inputs_|continuous_inputs_grid_sum_)"
_FLAGS = r"spike_input_received_(?:grid_sum_)?"
_SYNAPSE_TYPES = re.compile(r"enum SynapseTypes\s*\{(.*?)\};", re.S)
_ON_RECEIVE_DEF = re.compile(r"::(on_receive_block_\w+)\(nest::Time const &origin, const long lag\)\n\{\n"
                             r".*?onReceive\(\) block statements\n\s*\*\*/ *\n(?P<body>.*?)\n\}", re.S)
#: The only onReceive statement form for which running the body in a step without input changes nothing.
_ADDITIVE_STATEMENT = re.compile(r"\s*S_\.[\w\[\]:]+ \+= V_\.\w+ \* B_\.spike_inputs_grid_sum_\[\w+ - MIN_SPIKE_RECEPTOR\];")


#: The first two lines of the generated update(): its signature and opening brace.
_UPDATE_HEAD = r"void \w+::update\(nest::Time const & origin, const long from, const long to\)\n\{\n"


class CodegenPatchError(RuntimeError):
    """The generated C++ is not what the edits expect (most likely another NESTML version)."""


def _substitute(text: str, pattern: str, replacement: Union[str, Callable[[re.Match], str]], expected: int, what: str, path: Path) -> str:
    new_text, count = re.subn(pattern, replacement, text)
    if count != expected:
        raise CodegenPatchError(
            f"{path.name}: edit '{what}' matched {count} times, expected {expected}. The generated code is not "
            f"what glif_pynn/codegen_patches.py was written for (NESTML {WRITTEN_FOR_NESTML}); install that "
            f"version (pip install -r requirements.txt) or update the edit.")
    return new_text


def _check_gone(text: str, name: str, path: Path) -> None:
    if name in text:
        line = text[:text.index(name)].count("\n") + 1
        raise CodegenPatchError(f"{path.name}:{line}: '{name}' is still used after the edits; the generated code "
                                f"is not what glif_pynn/codegen_patches.py expects (NESTML {WRITTEN_FOR_NESTML}).")


def spike_ports(header: str, path: Path) -> int:
    """The number of spike input ports of a generated neuron, from the ``SynapseTypes`` enum of its header."""
    enum = _SYNAPSE_TYPES.search(header)
    if enum is None:
        raise CodegenPatchError(f"{path.name}: no 'enum SynapseTypes' found; the generated code is not what "
                                f"glif_pynn/codegen_patches.py expects (NESTML {WRITTEN_FOR_NESTML}).")
    names = re.findall(r"^\s*(\w+) = \d+,?\s*$", enum.group(1), re.M)
    return len([name for name in names if name != "MAX_SPIKE_RECEPTOR"])


def patch_source(text: str, path: Path, ports: Optional[int] = None) -> str:
    """Apply the edits to one generated neuron ``.cpp`` file.

    ``ports``: the neuron's number of spike input ports (:func:`spike_ports` of its header), which
    the per-port edits must match exactly; None takes the number of ``onReceive`` blocks in ``text``.
    """
    receivers = len(_ON_RECEIVE_DEF.findall(text))
    if ports is None:
        ports = receivers
    elif receivers != ports:
        raise CodegenPatchError(f"{path.name}: {receivers} onReceive blocks for {ports} spike input ports; the "
                                f"generated code is not what glif_pynn/codegen_patches.py expects (NESTML "
                                f"{WRITTEN_FOR_NESTML}).")
    # exact weights: the unit factors 0.001 and 1000 cancel exactly in real arithmetic, not in floating point
    text = _substitute(text, r"\(0\.001 \* (B_\.spike_inputs_grid_sum_\[\w+ - MIN_SPIKE_RECEPTOR\])\) \* 1000\.",
                       r"\1", ports, "apply spike weights exactly", path)
    for receiver in _ON_RECEIVE_DEF.finditer(text):
        statements = [line for line in receiver.group("body").splitlines() if line.strip()]
        if not statements or not all(_ADDITIVE_STATEMENT.fullmatch(line) for line in statements):
            raise CodegenPatchError(f"{path.name}: {receiver.group(1)}() is not a sum of 'state += constant * "
                                    f"weight sum' statements, so it cannot run in steps without input:\n"
                                    f"{receiver.group('body')}")
    # onReceive bodies run every step (adding c * 0.0 when nothing arrived), so no "received" flags
    text = _substitute(text, r"if \(B_\.spike_input_received_grid_sum_\[\w+ - MIN_SPIKE_RECEPTOR\]\)\s*\{\s*"
                             r"//[^\n]*\n\s*(on_receive_block_\w+\(origin, lag\);)\s*\}",
                       r"\1", ports, "call onReceive every step", path)
    text = _substitute(text, r"\n[ \t]*get_spike_input_received_grid_sum_\(\)\[i\] = "
                             r"get_spike_input_received_\(\)\[i\]\.get_value\(lag\);",
                       "", 1, "drop the flag reads", path)
    text = _substitute(text, r"\n[ \t]*B_\.spike_input_received_\[ nestml_buffer_idx - MIN_SPIKE_RECEPTOR \]"
                             r"\.add_value\([^;]*;", "", 1, "drop the flag writes", path)
    text = _substitute(text, rf"\n[ \t]*, {_FLAGS}\( std::vector< [\w:]+ >\( NUM_SPIKE_RECEPTORS \) \)",
                       "", 4, "drop the flag buffers' initialisers", path)
    text = _substitute(text, rf"\n[ \t]*get_{_FLAGS}\(\)\.clear\(\);", "", 2, "drop the flag buffers' clear", path)
    text = _substitute(text, rf"\n[ \t]*B_\.{_FLAGS}\.resize\(NUM_SPIKE_RECEPTORS\);", "", 2,
                       "drop the flag buffers' resize", path)
    _check_gone(text, "spike_input_received", path)
    text = _inline_on_receive(text, path, ports)
    # port buffers inline in the node: default-constructed, not vectors of a given size
    text = _substitute(text, rf"(, {_BUFFERS})\( std::vector< [\w:]+ >\( NUM_\w+ \) \)", r"\1()", 8,
                       "construct the inline port buffers", path)
    # the sample's time stamp: origin converted to steps once per call
    text = _substitute(text, f"({_UPDATE_HEAD})",
                       r"\1  const long origin_steps = origin.get_steps();  // glif-pynn: once per call\n",
                       1, "convert origin to steps once", path)
    text = _substitute(text, r"B_\.logger_\.record_data\(origin\.get_steps\(\) \+ lag\);",
                       "B_.logger_.record_data(origin_steps + lag);", 1, "stamp samples with origin_steps", path)
    return _share_internals(text, path)


#: update() from its signature to its closing brace, as three groups: head, body, end.
_UPDATE_BODY = rf"(?s)({_UPDATE_HEAD})(.*?\n)(\}}\n)"


def _share_internals(text: str, path: Path) -> str:
    """Point each node to the shared copy of its internals whenever they are computed, and read that copy in update()
    (through a local copy: read through a pointer, every store to the state could alias them).

    ``recompute_internal_variables()`` is where the generated code computes internals (the constructors, set_status and
    pre_run_hook call it); its end now looks up the shared copy. update() must not write internals (it would write
    the shared copy), which is checked.
    """
    text = _substitute(text, r"(?s)(void \w+::recompute_internal_variables\(bool exclude_timestep\)\n\{\n.*?\n)(\}\n)",
                       r"\1  // glif-pynn: look up the shared copy only when the internals changed (pre_run_hook runs at every "
                       r"Simulate)\n  if ( not shared_V_ or not same_internals_( *shared_V_, V_ ) )\n  {\n"
                       r"    shared_V_ = glif_pynn::shared_internals( V_, internals_key_( V_ ) );\n  }\n\2",
                       1, "look up the shared internals after computing them", path)

    def read_shared(match: re.Match) -> str:
        head, body, end = match.groups()
        if re.search(r"(?<!\w)V_\.\w+(?:\[[^]]*\])? *(?:[-+*/]?=(?!=)|\+\+|--)", body):
            raise CodegenPatchError(f"{path.name}: update() writes an internal variable, so nodes cannot share "
                                    f"their internals (NESTML {WRITTEN_FOR_NESTML}).")
        body, reads = re.subn(r"(?<!\w)V_\.", "Vs_.", body)
        if reads == 0:
            raise CodegenPatchError(f"{path.name}: update() reads no internal variable; the generated code is not "
                                    f"what glif_pynn/codegen_patches.py expects (NESTML {WRITTEN_FOR_NESTML}).")
        local = ("  // glif-pynn: the internals shared by the nodes with equal ones (the node's own until computed),\n"
                 "  // as a local, which no store to the state can change, so the compiler keeps the fields it uses\n"
                 "  const Variables_ Vs_ = shared_V_ ? *shared_V_ : V_;\n")
        return head + local + body + end

    return _substitute(text, _UPDATE_BODY, read_shared, 1, "read the shared internals in update()", path)


_GRID_SUM_READ = re.compile(r"B_\.spike_inputs_grid_sum_\[(\w+) - MIN_SPIKE_RECEPTOR\]")


def _inline_on_receive(text: str, path: Path, ports: int) -> str:
    """Put each onReceive body in place of its call in update(), reading its port's buffer there.

    NESTML copies every port's ring-buffer slot into a grid-sum array at the start of the step
    and calls one function per port after the update block, which reads the copy. Here each call
    becomes its body, with the grid sum replaced by one read of the port's ring buffer into a local
    constant (the read clears the slot, as the copy did). Nothing in the step writes that slot (a
    spike is sent at least one step ahead), so the value is the one the copy held. Every body reads
    its own port and no other, once per step; anything else is refused.
    """
    bodies = {}
    for receiver in _ON_RECEIVE_DEF.finditer(text):
        statements = [line.strip() for line in receiver.group("body").splitlines() if line.strip()]
        indices = {match.group(1) for line in statements for match in _GRID_SUM_READ.finditer(line)}
        port = receiver.group(1)[len("on_receive_block_"):].upper()
        if indices != {port}:
            raise CodegenPatchError(f"{path.name}: {receiver.group(1)}() reads the ports {sorted(indices)}, not its "
                                    f"own port {port} only; its body cannot be inlined (NESTML {WRITTEN_FOR_NESTML}).")
        local = f"port_{port.lower()}"
        bodies[receiver.group(1)] = (f"const double {local} = B_.spike_inputs_[{port} - MIN_SPIKE_RECEPTOR]"
                                     f".get_value(lag);", [_GRID_SUM_READ.sub(local, line) for line in statements])

    def inline(match: re.Match) -> str:
        indent, name = match.group(1), match.group(2)
        read, statements = bodies[name]
        port = name[len("on_receive_block_"):]
        lines = [f"{{  // glif-pynn: the onReceive block of port {port}, inlined, reading the port here", f"  {read}",
                 *(f"  {line}" for line in statements), "}"]
        return "\n".join(indent + line for line in lines) + "\n"

    text = _substitute(text, r"([ \t]*)(on_receive_block_\w+)\(origin, lag\);\n", inline, ports,
                       "inline the onReceive bodies", path)
    return _substitute(text, r"\n[ \t]*for \(long i = 0; i < NUM_SPIKE_RECEPTORS; \+\+i\)\n[ \t]*\{\n[ \t]*"
                             r"get_spike_inputs_grid_sum_\(\)\[i\] = get_spike_inputs_\(\)\[i\]\.get_value\(lag\);"
                             r"\n[ \t]*\}\n", "\n", 1, "drop the grid-sum copies of the spike ports", path)


_INTERNALS_STRUCT = re.compile(r"\n[ \t]*struct Variables_\n[ \t]*\{\n(.*?)\n[ \t]*\};\n", re.S)
#: Field types of the internals that can be keyed by their bytes.
_SCALARS = {"double", "long", "bool", "int", "unsigned", "size_t", "std::size_t"}


def _shared_internals_members(text: str, path: Path) -> str:
    """The node's members for shared internals, from the declaration of ``Variables_``: the pointer to the shared
    copy, ``internals_key_`` (the bytes of every field, the table's key) and ``same_internals_`` (field by field,
    the cheap check that the copy still matches, without building a key)."""
    struct = _INTERNALS_STRUCT.search(text)
    if struct is None:
        raise CodegenPatchError(f"{path.name}: no 'struct Variables_' found (NESTML {WRITTEN_FOR_NESTML}).")
    fields = []
    for line in struct.group(1).splitlines():
        code = line.split("//")[0].strip()
        if not code:
            continue
        field = re.fullmatch(r"([\w:]+) (\w+);", code)
        if field is None or field.group(1) not in _SCALARS:
            raise CodegenPatchError(f"{path.name}: the internal '{code}' is not a scalar, so the internals cannot be "
                                    f"shared by their bytes (NESTML {WRITTEN_FOR_NESTML}).")
        fields.append(field.group(2))
    appends = "".join(f"    glif_pynn::append_bytes( key, v.{name} );\n" for name in fields)
    same = "\n      and ".join(f"glif_pynn::same_bytes( a.{name}, b.{name} )" for name in fields)
    return ("  //! glif-pynn: the internals shared by all nodes with equal internals (set where they are computed)\n"
            "  const Variables_* shared_V_ = nullptr;\n"
            "  //! glif-pynn: the bytes of every field of the internals, their key in glif_pynn::shared_internals\n"
            "  static std::string internals_key_( const Variables_& v )\n  {\n    std::string key;\n"
            f"{appends}    return key;\n  }}\n"
            "  //! glif-pynn: whether two sets of internals are equal, bit for bit\n"
            "  static bool same_internals_( const Variables_& a, const Variables_& b )\n  {\n"
            f"    return {same};\n  }}\n")


_SETTERS_START = r"(\n  // if we get here, temporaries contain consistent set of properties\n)"
_SETTERS_END = (r"(\n  // recompute internal variables in case they are dependent on parameters or state that might have "
                r"been updated in this call to set_status\(\)\n)")


def _roll_back_refused_values(text: str, path: Path) -> str:
    """``set_status`` writes every new value into P_ and S_ and only then checks the ``[[...]]`` guards, so a
    refused value (a BadProperty) stayed in the node. The writes and checks now run in a ``try`` that restores
    the node's parameters and state before the exception leaves: a refused ``set_status`` changes nothing."""
    text = _substitute(text, _SETTERS_START,
                       "\n  // glif-pynn: the values are written before NESTML's guards check them; a refused value "
                       "is rolled back\n  const Parameters_ glif_pynn_old_P_ = P_;\n  const State_ glif_pynn_old_S_ = "
                       "S_;\n  try\n  {" + r"\1", 1, "keep the node's values to roll back a refused set_status", path)
    return _substitute(text, _SETTERS_END,
                       "\n  }\n  catch ( ... )\n  {\n    P_ = glif_pynn_old_P_;\n    S_ = glif_pynn_old_S_;\n    "
                       "throw;\n  }\n" + r"\1", 1, "roll back a refused set_status", path)


def patch_header(text: str, path: Path) -> str:
    """Apply the edits to one generated neuron ``.h`` file."""
    text = _roll_back_refused_values(text, path)
    text = _substitute(text, r'(#include "universal_data_logger.h"\n)',
                       rf'\1#include "{PORT_BUFFERS_HEADER}"\n#include "{SHARED_INTERNALS_HEADER}"\n',
                       1, "include the port-buffer and shared-internals code", path)
    members = _shared_internals_members(text, path)
    text = _substitute(text, r"(\n[ \t]*Variables_ +V_;[^\n]*\n)", lambda m: m.group(1) + members, 1,
                       "declare the pointer to the shared internals", path)
    text = _substitute(text, r"\n[ \t]*/\*\*\n[ \t]*\* Buffer containing a flag whether incoming spikes have been "
                             rf"received on a given port\n[ \t]*\*\*/\n[ \t]*inline std::vector< [\w:]+ >& get_{_FLAGS}"
                             r"\(\)\n[ \t]*\{\n[^}]*\}(?:\n[ \t]*std::vector< [\w:]+ > " + _FLAGS + ";)?",
                       "", 4, "drop the flag buffers' declarations", path)
    _check_gone(text, "spike_input_received", path)

    def inline(match: re.Match) -> str:
        element, rest, name = match.groups()
        count = "NUM_SPIKE_RECEPTORS" if name.startswith("spike") else "NUM_CONTINUOUS_INPUT_PORTS"
        return f"glif_pynn::PortBuffers< {element}, {count} >{rest}"

    return _substitute(text, rf"std::vector< ([\w:]+) >(&? (?:get_)?({_BUFFERS})\b)", inline, 12,
                       "store the port buffers inline", path)


def patch_generated_sources(source_dir: Path) -> list[str]:
    """Edit every generated neuron in ``source_dir`` in place; return the names of the edited neurons.

    Raises
    ------
    CodegenPatchError
        When a file does not have the expected shape; nothing is written in that case.
    """
    neurons = sorted(path.stem for path in source_dir.glob("*_neuron.cpp"))
    if not neurons:
        raise CodegenPatchError(f"no generated neurons (*_neuron.cpp) in {source_dir}")
    edited = {}
    for name in neurons:   # all edits are computed before any file is written
        cpp, header = source_dir / f"{name}.cpp", source_dir / f"{name}.h"
        edited[cpp] = patch_source(cpp.read_text(), cpp, spike_ports(header.read_text(), header))
        edited[header] = patch_header(header.read_text(), header)
    (source_dir / PORT_BUFFERS_HEADER).write_text(PORT_BUFFERS_CODE)
    (source_dir / SHARED_INTERNALS_HEADER).write_text(SHARED_INTERNALS_CODE)
    for path, text in edited.items():
        path.write_text(text)
    return neurons

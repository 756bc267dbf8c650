"""The edits to NESTML's generated C++ (glif_pynn/codegen_patches.py), on fresh NESTML output.

That the edited module computes what the unedited one did is held by the closed-form and reference
tests, which all run on the edited module; test_nest_module.py checks that spike weights now land exactly.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pynestml")
from glif_pynn import build, model_sources  # noqa: E402
from glif_pynn.codegen_patches import (PORT_BUFFERS_HEADER, SHARED_INTERNALS_HEADER, CodegenPatchError,  # noqa: E402
                                       patch_generated_sources)

MODEL = "glif_psc_exp_neuron"


@pytest.fixture(scope="module")
def plain_output(tmp_path_factory):
    """NESTML's unedited C++ for one model (about 20 s of code generation)."""
    models = tmp_path_factory.mktemp("models")
    model_sources.write_sources(models, [model_sources.ModelSpec("psc_exp")])
    out = tmp_path_factory.mktemp("plain")
    nest_version = pytest.importorskip("nest").__version__
    result = subprocess.run([sys.executable, "-m", "glif_pynn._codegen", str(models), str(out), "plainmodule",
                             nest_version, "--plain"], cwd=out, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture
def sources(plain_output, tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(plain_output, copy)
    return copy


def test_plain_output_has_what_the_edits_remove(plain_output):
    cpp = (plain_output / f"{MODEL}.cpp").read_text()
    assert "spike_input_received_" in cpp
    assert "record_data(origin.get_steps() + lag)" in cpp
    assert "(0.001 * B_.spike_inputs_grid_sum_[EXC_SPIKES - MIN_SPIKE_RECEPTOR]) * 1000." in cpp


def test_edits_apply_to_fresh_nestml_output(sources):
    assert patch_generated_sources(sources) == [MODEL]
    cpp, header = (sources / f"{MODEL}.cpp").read_text(), (sources / f"{MODEL}.h").read_text()
    assert "spike_input_received" not in cpp + header, "no 'received' flag buffers left"
    assert "std::vector< nest::RingBuffer >" not in header and "std::vector< double >" not in header
    assert "glif_pynn::PortBuffers< nest::RingBuffer, NUM_SPIKE_RECEPTORS > spike_inputs_;" in header
    assert cpp.count("record_data(origin_steps + lag)") == 1 and "record_data(origin.get_steps()" not in cpp
    update = cpp[cpp.index("::update(nest::Time const & origin"):cpp.index("// voltage logging")]
    assert not re.search(r"on_receive_block_\w+\(", update), "the onReceive bodies are inlined in update()"
    assert "spike_inputs_grid_sum_" not in update, "no grid-sum copies of the spike ports"
    for port, state in (("EXC_SPIKES", "I_syn_exc"), ("INH_SPIKES", "I_syn_inh")):
        read = f"const double port_{port.lower()} = B_.spike_inputs_[{port} - MIN_SPIKE_RECEPTOR].get_value(lag);"
        assert update.count(read) == 1, f"{port}'s buffer is read once per step"
        assert update.count(f"S_.{state} += Vs_.unit_psc * port_{port.lower()};") == 1
    assert "class PortBuffers< nest::RingBuffer, N >" in (sources / PORT_BUFFERS_HEADER).read_text(), \
        "the spike ports' ring buffers share one allocation, slot by slot"


def test_update_reads_the_shared_internals(sources, plain_output):
    patch_generated_sources(sources)
    cpp, header = (sources / f"{MODEL}.cpp").read_text(), (sources / f"{MODEL}.h").read_text()
    update = cpp[cpp.index("::update(nest::Time const & origin"):cpp.index("// voltage logging")]
    assert "const Variables_ Vs_ = shared_V_ ? *shared_V_ : V_;" in update
    assert not re.search(r"(?<!\w)V_\.", update.replace("shared_V_ ? *shared_V_ : V_;", "")), "update() reads Vs_ only"
    plain = (plain_output / f"{MODEL}.cpp").read_text()
    plain_update = plain[plain.index("::update(nest::Time const & origin"):]
    plain_update = plain_update[:plain_update.index("\n}\n")]
    read = set(re.findall(r"(?<!\w)V_\.(\w+)", plain_update))
    assert read and read <= set(re.findall(r"(?<!\w)Vs_\.(\w+)", update)), "every internal update() read comes from Vs_"
    recompute = cpp[cpp.index("::recompute_internal_variables(bool exclude_timestep)"):]
    recompute = recompute[:recompute.index("\n}\n")]
    assert recompute.rstrip().endswith("if ( not shared_V_ or not same_internals_( *shared_V_, V_ ) )\n  {\n"
                                       "    shared_V_ = glif_pynn::shared_internals( V_, internals_key_( V_ ) );\n  }")
    struct = header[header.index("struct Variables_"):]
    fields = re.findall(r"^\s+(?:double|long|bool) (\w+);", struct[:struct.index("};")], re.M)
    key = header[header.index("static std::string internals_key_"):]
    assert fields and re.findall(r"append_bytes\( key, v\.(\w+) \);", key[:key.index("return key;")]) == fields, \
        "the key holds every field of the internals, in order"
    same = header[header.index("static bool same_internals_"):]
    assert re.findall(r"same_bytes\( a\.(\w+), b\.\1 \)", same[:same.index(";")]) == fields, "and so does the comparison"
    assert "std::mutex" in (sources / SHARED_INTERNALS_HEADER).read_text()


def test_internals_that_update_writes_or_that_are_not_scalars_are_refused(sources, plain_output):
    cpp = sources / f"{MODEL}.cpp"
    writes = cpp.read_text().replace("S_.refr_counts = V_.refr_steps;", "V_.refr_steps = S_.refr_counts;")
    assert writes != cpp.read_text()
    cpp.write_text(writes)
    with pytest.raises(CodegenPatchError, match="update\\(\\) writes an internal variable"):
        patch_generated_sources(sources)
    cpp.write_text((plain_output / f"{MODEL}.cpp").read_text())
    header = sources / f"{MODEL}.h"
    header.write_text(header.read_text().replace("    double P_V;", "    std::vector< double > P_V;", 1))
    with pytest.raises(CodegenPatchError, match="'std::vector< double > P_V;' is not a scalar"):
        patch_generated_sources(sources)
    assert cpp.read_bytes() == (plain_output / f"{MODEL}.cpp").read_bytes()
    assert not (sources / SHARED_INTERNALS_HEADER).exists()


def test_unexpected_code_is_refused_and_nothing_is_written(sources, plain_output):
    header = sources / f"{MODEL}.h"
    header.write_text(header.read_text().replace('#include "universal_data_logger.h"', ""))
    with pytest.raises(CodegenPatchError,
                       match=r"include the port-buffer and shared-internals code.*matched 0 times.*NESTML 9\.0\.0"):
        patch_generated_sources(sources)
    assert (sources / f"{MODEL}.cpp").read_bytes() == (plain_output / f"{MODEL}.cpp").read_bytes()
    assert not (sources / PORT_BUFFERS_HEADER).exists()


def test_an_onreceive_body_that_is_not_additive_is_refused(sources, plain_output):
    cpp = sources / f"{MODEL}.cpp"
    broken = cpp.read_text().replace("S_.I_syn_inh += V_.unit_psc", "S_.I_syn_inh = V_.unit_psc")
    cpp.write_text(broken)
    with pytest.raises(CodegenPatchError, match="on_receive_block_inh_spikes.*cannot run in steps without input"):
        patch_generated_sources(sources)
    assert cpp.read_text() == broken
    assert (sources / f"{MODEL}.h").read_bytes() == (plain_output / f"{MODEL}.h").read_bytes()


def test_edits_are_part_of_the_cache_key(tmp_path, monkeypatch):
    from glif_pynn.toolchain import detect_toolchain
    toolchain = detect_toolchain()
    before = build.cache_key(toolchain)
    edited = tmp_path / "codegen_patches.py"
    edited.write_text(Path(build.RECIPE_SOURCES[1]).read_text() + "\n# changed\n")
    monkeypatch.setattr(build, "RECIPE_SOURCES", (build.RECIPE_SOURCES[0], edited))
    assert build.cache_key(toolchain) != before


def test_a_port_without_its_onreceive_block_is_refused(sources, plain_output):
    """The per-port edits must match once per spike input port, counted from the header's SynapseTypes
    enum (2 here; N for an N-port model), not from what the regular expressions happen to find."""
    header = sources / f"{MODEL}.h"
    header.write_text(header.read_text().replace("MAX_SPIKE_RECEPTOR = 2", "EXTRA_SPIKES = 2,\n    MAX_SPIKE_RECEPTOR = 3"))
    with pytest.raises(CodegenPatchError, match="2 onReceive blocks for 3 spike input ports"):
        patch_generated_sources(sources)
    assert (sources / f"{MODEL}.cpp").read_bytes() == (plain_output / f"{MODEL}.cpp").read_bytes()


def test_an_onreceive_body_that_reads_another_port_is_refused(sources, plain_output):
    """Inlining reads each port's buffer once, where its own onReceive body was called: a body that
    reads another port's value would then read a cleared slot."""
    cpp = sources / f"{MODEL}.cpp"
    broken = cpp.read_text().replace("S_.I_syn_inh += V_.unit_psc * (0.001 * B_.spike_inputs_grid_sum_[INH_SPIKES",
                                     "S_.I_syn_inh += V_.unit_psc * (0.001 * B_.spike_inputs_grid_sum_[EXC_SPIKES")
    assert broken != cpp.read_text()
    cpp.write_text(broken)
    with pytest.raises(CodegenPatchError, match="on_receive_block_inh_spikes.*reads the ports.*EXC_SPIKES"):
        patch_generated_sources(sources)
    assert cpp.read_text() == broken

"""NEST 3.10's MPI target-exchange bug in twelve neurons of plain PyNEST (no glif-pynn involved).

Usage: mpirun -np 2 python target_exchange_repro.py MODE OUTPUT.json
MODE: ``compressed`` (NEST's default) or ``uncompressed`` (``nest.use_compressed_spikes = False``,
the workaround). Rank 0 writes the final V_m of every silent cell and the value it must have.

Seven ``iaf_psc_delta`` cells can never fire (``V_th`` = 1e9 mV, no leak in 15 ms); five parrot
neurons each relay one spike. First the parrots are connected to silent cells with weight 1 mV;
``GetConnections`` makes NEST exchange its connection targets once; then silent cells are
connected to silent cells with weight 1000 mV. Since no silent cell fires, each one must end at
the number of parrot synapses it receives (in mV). On an unpatched kernel with compressed spikes
the second exchange takes entries left over from the first for targets, and two cells end higher
(cell 5 at 1002 mV instead of 2: a parrot's spike went through a 1000 mV synapse of a silent
cell). The network was found by a random search over small networks
(comparisons/upstream/nest-target-exchange-bug.md); node ids and the connections are spelled out.
"""
import json
import sys

import nest

mode, output = sys.argv[1], sys.argv[2]
nest.ResetKernel()
nest.set_verbosity("M_ERROR")
if mode == "uncompressed":
    nest.use_compressed_spikes = False
elif mode != "compressed":
    raise SystemExit(f"unknown mode {mode!r}: compressed or uncompressed")

SILENT = {"V_th": 1e9, "E_L": 0.0, "V_m": 0.0, "V_reset": 0.0, "tau_m": 1e12}
kinds = "SSPPSSSPSSPP"                    # node ids 1..12: S silent iaf_psc_delta, P parrot_neuron
nodes = [nest.Create("iaf_psc_delta", params=SILENT) if kind == "S" else nest.Create("parrot_neuron")
         for kind in kinds]
generator = nest.Create("spike_generator", params={"spike_times": [1.0]})
for node, kind in zip(nodes, kinds):
    if kind == "P":
        nest.Connect(generator, node)


def connect(pairs, weight):
    for pre, post in pairs:
        nest.Connect(nodes[pre - 1], nodes[post - 1], syn_spec={"weight": weight, "delay": 1.0})


first = [(4, 9), (3, 2), (3, 9), (11, 5), (4, 7), (12, 5)]        # parrot -> silent, 1 mV
connect(first, 1.0)
nest.GetConnections()              # an exchange of connection targets, as pyNN.nest's Projection makes
connect([(7, 10), (5, 5), (6, 9), (7, 7), (7, 10), (9, 7)], 1000.0)   # silent -> silent, 1000 mV
nest.Simulate(15.0)

local = {node.global_id: node.get("V_m") for node, kind in zip(nodes, kinds) if kind == "S" and node.local}
try:
    from mpi4py import MPI
    gathered = MPI.COMM_WORLD.gather(local)
except ImportError:       # one process
    gathered = [local]
if nest.Rank() == 0:
    v_m = {gid: value for part in gathered for gid, value in part.items()}
    expected = {gid: float(sum(1 for _, post in first if post == gid)) for gid in v_m}
    with open(output, "w") as stream:
        json.dump({"V_m": {str(k): v for k, v in sorted(v_m.items())},
                   "expected": {str(k): v for k, v in sorted(expected.items())},
                   "processes": nest.NumProcesses(), "mode": mode}, stream)

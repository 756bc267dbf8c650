"""The ``glif-pynn`` command."""
from __future__ import annotations

import argparse
import math
import sys
from typing import Optional, Sequence


def _build(args: argparse.Namespace) -> int:
    from glif_pynn.build import BuildError, ensure_module
    from glif_pynn.toolchain import ToolchainError
    try:
        path = ensure_module(force=args.force)
    except (BuildError, ToolchainError) as err:
        print(f"glif-pynn build: {err}", file=sys.stderr)
        return 1
    print(f"glif-pynn: NEST module ready: {path}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Run examples/single_neuron.py (the source document's Figure 1) on pyNN.nest."""
    from pathlib import Path
    examples = Path(__file__).resolve().parent.parent / "examples"
    if not (examples / "single_neuron.py").is_file():
        print(f"glif-pynn demo: {examples}/single_neuron.py not found (the demo needs the repository checkout)",
              file=sys.stderr)
        return 1
    sys.path.insert(0, str(examples))
    import single_neuron
    single_neuron.main(["--backend", args.backend, "--output", args.output, "--amplitude", str(args.amplitude),
                        "--duration", str(args.duration)])
    return 0


def _allen(args: argparse.Namespace) -> int:
    """One Allen Cell Types Database GLIF model (or NEST glif_psc dictionary) under a current step."""
    import warnings

    from glif_pynn.allen import describe_config
    from glif_pynn.step_response import plot_step, run_step

    def say(line: str) -> None:
        print(f"glif-pynn allen: {line}", flush=True)

    def refuse(message: object) -> int:     # one line on stderr, no traceback
        print(f"glif-pynn allen: {message}", file=sys.stderr)
        return 1

    say(f"loading {args.config}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            config = describe_config(args.config, args.cell_type)
    except (OSError, ValueError, ArithmeticError) as err:   # describe_config names the file and the key
        return refuse(err)
    for warning in caught:
        say(f"warning: {warning.message}")
    print(config.summary(), flush=True)
    dt = args.dt if args.dt is not None else (config.dt or 0.1)
    try:
        result = run_step(config.cell_type, config.parameters, args.step, backend=args.backend,
                          duration=args.duration, dt=dt, progress=say)
    except ValueError as err:
        return refuse(err)
    print(f"{config.level_text} on {args.backend}, {args.step:g} nA from {result.start:g} to {result.stop:g} ms: "
          f"{len(result.spikes)} spikes, {result.rate:.2f} Hz during the step", flush=True)
    print("spike times (ms):", " ".join(f"{s:.2f}" for s in result.spikes), flush=True)
    ident = f" {config.model_id}" if config.model_id else ""
    path = plot_step(result, args.output, title=f"{config.source}{ident}: {config.level_text}, {args.step:g} nA "
                                                f"({args.backend})")
    say(f"figure: {path}")
    return 0


def _finite(text: str) -> float:
    """An argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _positive(text: str) -> float:
    """An argparse type: a finite number above 0."""
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value


def _count(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _sizes(text: str) -> str:
    """An argparse type: comma-separated sizes (``1e3,1e4``), each a whole number of at least 1; kept as
    the text, which the commands split and print."""
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r} in {text!r} is not a number (give e.g. 1e3,1e4)") from None
        if not (math.isfinite(value) and value >= 1 and value == int(value)):
            raise argparse.ArgumentTypeError(f"{item} in {text!r} must be a whole number of at least 1")
    return text


def _current(text: str) -> float:
    from glif_pynn.step_response import parse_current
    try:
        return parse_current(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _fit(args: argparse.Namespace) -> int:
    """Fit a GLIF level to recorded sweeps (glif_pynn.fit.command does the work)."""
    from glif_pynn.fit.command import run_fit
    return run_fit(args, lambda line: print(f"glif-pynn fit: {line}", flush=True))


def _fit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", help="training sweeps: any file neo reads (one Segment per sweep, signals "
                                          "'current' and 'v'; see --current/--v)")
    parser.add_argument("--level", type=int, required=True, choices=(1, 2, 3, 4, 5),
                        help="GLIF level: 1 LIF, 2 LIF-R, 3 LIF-ASC, 4 LIF-R-ASC, 5 LIF-R-ASC-A")
    parser.add_argument("--test", default=None, help="held-out sweeps (scored, not fitted), same format")
    parser.add_argument("--output", required=True, help="folder for parameters.json, neuron_config.json, report.md, "
                                                        "fit.png (created; checked before the fit)")
    parser.add_argument("--force", action="store_true",
                        help="replace the files of an earlier fit in --output (without it, such a folder is refused)")
    parser.add_argument("--current", default="current",
                        help="name of the current signal (default: %(default)s; else the one signal in current units)")
    parser.add_argument("--v", default="v",
                        help="name of the voltage signal (default: %(default)s; else the one signal in voltage units)")
    parser.add_argument("--cell-type", default="GLIF_curr_exp",
                        choices=("GLIF_curr_exp", "GLIF_curr_alpha", "GLIF_cond_exp", "GLIF_cond_alpha"))
    parser.add_argument("--seed", type=int, default=0, help="optimiser seed (default: %(default)s)")
    parser.add_argument("--generations", type=int, default=30, help="optimiser generations (default: %(default)s)")
    parser.add_argument("--spike-level", type=float, default=-20.0,
                        help="mV; upward crossings are spikes where a segment has no spike train (default: %(default)s)")


#: ``glif-pynn bench TARGET``: what each target measures.
BENCH_TARGETS = {
    "nest": "the NEST models, isolated neurons (ns per neuron-update) and synaptic events",
    "reference": "the numpy reference engine",
    "scale": "large networks on 1-2 threads and 2 MPI ranks",
    "network": "a recurrent 10k-cell network with each kind of cell",
    "noise": "escape noise off and on, both backends",
    "mpi": "the cost of the MPI workaround (compressed spikes off) on 2 ranks",
    "connect": "building PyNN projections on NEST (us per synapse)",
    "fit": "glif_pynn.fit: candidate evaluations per second, a whole GLIF5 fit",
}


def _bench(args: argparse.Namespace) -> int:
    sizes = [float(x) for x in args.sizes.split(",")]
    if args.target == "fit":
        from glif_pynn.fit.bench import format_report, run as run_fit_bench
        print(format_report(run_fit_bench(progress=lambda line: print(f"glif-pynn bench: {line}", flush=True))))
        return 0
    if args.target in ("scale", "mpi") and not _whole_steps(args.duration):
        print(f"glif-pynn bench: --duration {args.duration:g} ms is not a whole number of NEST's 0.1 ms steps",
              file=sys.stderr)
        return 2
    if args.target == "scale":
        import json
        from comparisons.scale import run as run_scale
        rows, failed = run_scale(t_sim=args.duration,
                                 progress=lambda line: print(f"glif-pynn bench: {line}", flush=True))
        print(json.dumps(rows, indent=1))
        return _failures(failed)
    if args.target == "connect":
        return _bench_connect(args)
    if args.target == "mpi":
        import json
        from comparisons.scale import workaround_cost
        print("glif-pynn bench: what compressed spikes off (the MPI workaround) costs on 2 ranks", flush=True)
        try:
            cost = workaround_cost(t_sim=args.duration, repeats=args.repeats,
                                   progress=lambda line: print(f"glif-pynn bench: {line}", flush=True))
        except RuntimeError as error:
            print(f"glif-pynn bench: {error}", file=sys.stderr)
            return 1
        print(json.dumps(cost, indent=1))
        return 0
    if args.target == "network":
        from comparisons.network import markdown, run as run_network
        print(markdown(run_network(repeats=args.repeats, quick=args.quick, pynn=args.pynn,
                                   progress=lambda line: print(f"glif-pynn bench: {line}", flush=True))))
        return 0
    if args.target == "noise":
        from comparisons.escape_noise import bench, markdown
        print("glif-pynn bench: escape noise off and on, NEST and the numpy reference, isolated cells "
              f"(sizes {args.sizes}, {args.repeats} interleaved rounds of fresh processes)", flush=True)
        print(markdown({"bench": bench(sizes=sizes, repeats=args.repeats,
                                       progress=lambda line: print(f"glif-pynn bench: {line}", flush=True))}))
        return 0
    if args.target == "reference":
        from glif_pynn.reference.bench import bench_reference, format_report
        print(f"glif-pynn bench: numpy reference, sizes {args.sizes}, then 10k x 1000 synapses (about a minute)",
              flush=True)
        print(format_report(bench_reference(sizes=sizes)))
    else:
        from comparisons.performance import run
        print(f"glif-pynn bench: NEST kinds and the numpy reference, isolated neurons (sizes {args.sizes}, 1 thread), "
              f"then synaptic events; {args.repeats} interleaved rounds of fresh processes each", flush=True)
        result = run(sizes=sizes, threads=(1,), repeats=args.repeats,
                     progress=lambda line: print(f"glif-pynn bench: {line}", flush=True))
        for row in result["synaptic"]:
            print(f"{row['kind']}: {row['bytes_per_synapse']:.1f} bytes per synapse")
    return 0


def _bench_connect(args: argparse.Namespace) -> int:
    """Building projections on pyNN.nest: glif-pynn's fast path, PyNN's own path and NEST's floor."""
    import json
    import os

    from comparisons.construction import format_table, run
    from glif_pynn.atomic import write_text

    def say(line: str) -> None:
        print(f"glif-pynn bench: {line}", flush=True)

    synapses = [float(x) for x in args.synapses.split(",")]
    say(f"building projections for about {args.synapses} synapses and the building-networks guide's example (4000 cells), each in a "
        f"fresh process; PyNN's own path up to {args.pynn_max:g} synapses (it takes minutes beyond)")
    load = f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    rows, failed = run(synapses=synapses, pynn_max=args.pynn_max, progress=say)
    print(format_table(rows, load))
    path = write_text(args.output, json.dumps({"rows": rows, "load": load, "failed": failed}, indent=1))
    say(f"written to {path}")
    return _failures(failed)


def _whole_steps(duration_ms: float, resolution_ms: float = 0.1) -> bool:
    """Whether ``duration_ms`` is a whole number of steps, up to rounding error."""
    steps = duration_ms / resolution_ms
    return abs(steps - round(steps)) < 1e-9 * max(1.0, steps)


def _failures(failed: list[str]) -> int:
    """0 when every run of a bench succeeded; else each failure on stderr and 1."""
    for line in failed:
        print(f"glif-pynn bench: failed: {line}", file=sys.stderr)
    if failed:
        print(f"glif-pynn bench: {len(failed)} run(s) failed (above); the figures printed are from the others",
              file=sys.stderr)
    return 1 if failed else 0


def _compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from comparisons.report import ResumeError, run_all
    sizes = tuple(float(x) for x in args.sizes.split(",")) if args.sizes else None
    try:
        path = run_all(Path(args.output), quick=args.quick, sizes=sizes, resume=args.resume,
                       progress=lambda line: print(f"glif-pynn compare: {line}", flush=True))
    except ResumeError as err:
        print(f"glif-pynn compare: {err}", file=sys.stderr)
        return 2
    print(f"glif-pynn: report written to {path}")
    return 0


def _sonata(args: argparse.Namespace) -> int:
    """Run a SONATA simulation config (as BMTK's PointNet would) on pyNN.nest or the reference."""
    from glif_pynn.sonata import SonataError, run
    try:
        summary = run(args.config, backend=args.backend,
                      progress=lambda line: print(f"glif-pynn sonata: {line}", flush=True))
    except (SonataError, OSError) as err:
        print(f"glif-pynn sonata: {err}", file=sys.stderr)
        return 1
    if summary["rank"] != 0:          # under MPI: rank 0 speaks for all, with the gathered spikes
        return 0
    print(f"glif-pynn sonata: {summary['n_cells']} cells, {summary['n_spikes']} spikes in {summary['tstop']:g} ms "
          f"(build {summary['build_s']:.1f} s, run {summary['run_s']:.1f} s on {summary['backend']}); spikes: "
          f"{summary['spikes_file']}", flush=True)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    from glif_pynn._quiet import quiet_third_parties
    quiet_third_parties()        # before anything imports NEST or pyNN
    parser = argparse.ArgumentParser(prog="glif-pynn", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build (or find in the cache) the NEST module glifmodule")
    build.add_argument("--force", action="store_true", help="rebuild even when the cache is valid")
    build.set_defaults(func=_build)
    demo = commands.add_parser("demo", help="one GLIF neuron under a current step: spike times and a figure")
    demo.add_argument("--backend", choices=("nest", "reference"), default="nest", help="default: %(default)s")
    demo.add_argument("--output", default="results/demo.png", help="figure path (default: %(default)s)")
    demo.add_argument("--amplitude", type=_finite, default=0.3, help="current step in nA (default: %(default)s)")
    demo.add_argument("--duration", type=_positive, default=1000.0, help="simulated time in ms (default: %(default)s)")
    demo.set_defaults(func=_demo)
    allen = commands.add_parser("allen", help="an Allen Cell Types GLIF model (neuron_config) under a current step")
    allen.add_argument("config", help="Allen neuron_config JSON (GLIF 1-5) or a NEST glif_psc parameter JSON")
    allen.add_argument("--step", type=_current, default="0.2nA",
                       help="step amplitude: 0.2nA, 200pA or 0.2 (nA) (default: 0.2nA)")
    allen.add_argument("--backend", choices=("nest", "reference"), default="nest", help="default: %(default)s")
    allen.add_argument("--duration", type=_positive, default=1000.0,
                       help="simulated time in ms; the step is on from s = min(100 ms, duration / 10) to s "
                            "before the end (default: %(default)s)")
    allen.add_argument("--dt", type=_positive, default=None,
                       help="time step in ms (default: the Allen fit's dt, 0.05 ms; 0.1 ms for a NEST dictionary)")
    allen.add_argument("--cell-type", default=None,
                       choices=("GLIF_curr_exp", "GLIF_curr_alpha", "GLIF_cond_exp", "GLIF_cond_alpha"),
                       help="PyNN cell type (default: GLIF_curr_exp for an Allen configuration, the alpha-shaped "
                            "type for a NEST glif_psc/glif_cond one)")
    allen.add_argument("--output", default="results/allen.png", help="figure path (default: %(default)s)")
    allen.set_defaults(func=_allen)
    fit = commands.add_parser("fit", help="fit a GLIF model (levels 1-5) to current-clamp recordings")
    _fit_arguments(fit)
    fit.set_defaults(func=_fit)
    bench = commands.add_parser("bench", help="speed and memory figures (ns per neuron-update and per event)")
    bench.add_argument("target", choices=tuple(BENCH_TARGETS),
                       help="; ".join(f"{name}: {what}" for name, what in BENCH_TARGETS.items()))
    bench.add_argument("--duration", type=_positive, default=100.0, help="simulated ms per scale run (default: %(default)s)")
    bench.add_argument("--sizes", type=_sizes, default="1e3,1e4,1e5,1e6", help="numbers of isolated neurons (default: %(default)s)")
    bench.add_argument("--repeats", type=_count, default=3, help="runs per figure, median reported (nest, network)")
    bench.add_argument("--synapses", type=_sizes, default="1e5,1e6,1e7", help="network sizes in synapses (connect; default: "
                                                                  "%(default)s)")
    bench.add_argument("--pynn-max", type=_positive, default=2e6,
                       help="largest network built with PyNN's own path (connect; default: %(default)g)")
    bench.add_argument("--output", default="results/bench_connect.json", help="JSON file (connect; default: "
                                                                               "%(default)s)")
    bench.add_argument("--quick", action="store_true", help="network: 2,000 cells x 200 inputs (default: 10k x 1000)")
    bench.add_argument("--pynn", choices=("quick", "full", "none"), default="quick",
                       help="network: the PyNN part's network (default: %(default)s; full takes many minutes to "
                            "connect in PyNN today)")
    bench.set_defaults(func=_bench)
    compare = commands.add_parser("compare", help="agreement, convergence and speed studies; writes a report")
    compare.add_argument("--output", default="results/report", help="report directory (default: %(default)s)")
    compare.add_argument("--quick", action="store_true", help="small sizes and one repeat (a few minutes)")
    compare.add_argument("--sizes", type=_sizes, default=None, help="isolated-neuron sizes, e.g. 1e3,1e4,1e5 (default: 1e3 to 1e6)")
    compare.add_argument("--resume", action="store_true",
                         help="after an interrupted run with the same options: read back the studies whose JSON is "
                              "already in --output and run only the rest (the report names those read back)")
    compare.set_defaults(func=_compare)
    sonata = commands.add_parser("sonata", help="run a SONATA simulation config (e.g. built with BMTK) and write "
                                                "its spikes")
    sonata.add_argument("config", help="simulation config JSON (with 'network' naming the circuit config, as BMTK)")
    sonata.add_argument("--backend", choices=("nest", "reference"), default="nest", help="default: %(default)s")
    sonata.set_defaults(func=_sonata)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

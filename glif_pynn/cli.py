"""The ``glif-pynn`` command."""
from __future__ import annotations

import argparse
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


def _bench(args: argparse.Namespace) -> int:
    sizes = [float(x) for x in args.sizes.split(",")]
    if args.target == "scale":
        import json
        from comparisons.scale import run as run_scale
        rows = run_scale(t_sim=args.duration, progress=lambda line: print(f"glif-pynn bench: {line}", flush=True))
        print(json.dumps(rows, indent=1))
        return 0
    if args.target == "reference":
        from glif_pynn.reference.bench import bench_reference, format_report
        print(f"glif-pynn bench: numpy reference, sizes {args.sizes}, then 10k x 1000 synapses (about a minute)",
              flush=True)
        print(format_report(bench_reference(sizes=sizes)))
    else:
        from comparisons.performance import run
        result = run(sizes=sizes, threads=(1,), repeats=args.repeats,
                     progress=lambda line: print(f"glif-pynn bench: {line}", flush=True))
        for row in result["synaptic"]:
            print(f"{row['kind']}: {row['bytes_per_synapse']:.1f} bytes per synapse")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from comparisons.report import run_all
    sizes = tuple(float(x) for x in args.sizes.split(",")) if args.sizes else None
    path = run_all(Path(args.output), quick=args.quick, sizes=sizes,
                   progress=lambda line: print(f"glif-pynn compare: {line}", flush=True))
    print(f"glif-pynn: report written to {path}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="glif-pynn", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build (or find in the cache) the NEST module glifmodule")
    build.add_argument("--force", action="store_true", help="rebuild even when the cache is valid")
    build.set_defaults(func=_build)
    demo = commands.add_parser("demo", help="one GLIF neuron under a current step: spike times and a figure")
    demo.add_argument("--backend", choices=("nest", "reference"), default="nest", help="default: %(default)s")
    demo.add_argument("--output", default="results/demo.png", help="figure path (default: %(default)s)")
    demo.add_argument("--amplitude", type=float, default=0.3, help="current step in nA (default: %(default)s)")
    demo.add_argument("--duration", type=float, default=1000.0, help="simulated time in ms (default: %(default)s)")
    demo.set_defaults(func=_demo)
    bench = commands.add_parser("bench", help="speed and memory figures (ns per neuron-update and per event)")
    bench.add_argument("target", choices=("reference", "nest", "scale"),
                       help="the numpy reference, the NEST models, or large networks on 1-2 threads and 2 MPI ranks")
    bench.add_argument("--duration", type=float, default=100.0, help="simulated ms per scale run (default: %(default)s)")
    bench.add_argument("--sizes", default="1e3,1e4,1e5,1e6", help="numbers of isolated neurons (default: %(default)s)")
    bench.add_argument("--repeats", type=int, default=3, help="runs per figure, median reported (nest)")
    bench.set_defaults(func=_bench)
    compare = commands.add_parser("compare", help="agreement, convergence and speed studies; writes a report")
    compare.add_argument("--output", default="comparisons/report", help="report directory (default: %(default)s)")
    compare.add_argument("--quick", action="store_true", help="small sizes and one repeat (a few minutes)")
    compare.add_argument("--sizes", default=None, help="isolated-neuron sizes, e.g. 1e3,1e4,1e5 (default: 1e3 to 1e6)")
    compare.set_defaults(func=_compare)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

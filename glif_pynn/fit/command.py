"""``glif-pynn fit RECORDING --level N [--test RECORDING] --output DIR``: the work behind the command."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable


def run_fit(args, say: Callable[[str], None]) -> int:
    """Read the recordings (any format neo reads), fit, write parameters, neuron_config, report and figure.

    Everything is checked before anything is written; a ValueError is printed and returns 1."""
    from glif_pynn.fit import fit, read_recording
    started = time.monotonic()
    try:
        say(f"reading {args.recording}")
        training = read_recording(args.recording, args.current, args.v)
        test = None
        if args.test:
            say(f"reading {args.test}")
            test = read_recording(args.test, args.current, args.v)
        result = fit(training, args.level, test=test, seed=args.seed, cell_type=args.cell_type,
                     generations=args.generations, spike_level=args.spike_level, progress=say)
    except ValueError as err:
        print(f"glif-pynn fit: {err}", file=sys.stderr)
        return 1
    paths = result.save(Path(args.output))
    for name, path in paths.items():
        say(f"wrote {path}")
    say(f"done in {time.monotonic() - started:.0f} s")
    return 0

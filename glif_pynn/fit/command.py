"""``glif-pynn fit RECORDING --level N [--test RECORDING] --output DIR [--force]``: the work behind the command."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable


def _fail(message: str) -> int:
    print(f"glif-pynn fit: {message}", file=sys.stderr)
    return 1


def run_fit(args, say: Callable[[str], None]) -> int:
    """Read the recordings (any format neo reads), fit, write parameters, neuron_config, report and figure.

    Everything is checked before anything is written: the output folder first (absent or a folder that can be
    written, holding no earlier fit's files unless ``args.force``), then the recordings. Bad input, an
    unusable output folder or a failure to write is one line on stderr and returns 1."""
    from glif_pynn.fit import fit, read_recording
    from glif_pynn.fit.output import check_output
    from glif_pynn.fit.objective import CHUNK_MS
    from glif_pynn.fit.pipeline import POPULATION, _check_arguments
    started = time.monotonic()
    output, force = Path(args.output), bool(getattr(args, "force", False))
    try:        # the arguments before the recordings, which may take long to read
        _check_arguments(args.level, args.cell_type, args.seed, args.generations, POPULATION, CHUNK_MS,
                         args.spike_level)
    except ValueError as err:
        return _fail(str(err))
    try:
        check_output(output, overwrite=force)
    except FileExistsError as err:
        return _fail(f"{err}; give --force to replace them, or choose another --output")
    except OSError as err:
        return _fail(str(err))
    try:
        say(f"reading {args.recording}")
        training = read_recording(args.recording, args.current, args.v)
        test = None
        if args.test:
            say(f"reading {args.test}")
            test = read_recording(args.test, args.current, args.v)
        result = fit(training, args.level, test=test, seed=args.seed, cell_type=args.cell_type,
                     generations=args.generations, spike_level=args.spike_level, progress=say)
    except (ValueError, OSError) as err:
        return _fail(str(err))
    try:
        paths = result.save(output, overwrite=force)
    except (ValueError, OSError) as err:
        return _fail(f"could not write the fit into {output}: {err}")
    for path in paths.values():
        say(f"wrote {path}")
    say(f"done in {time.monotonic() - started:.0f} s")
    return 0

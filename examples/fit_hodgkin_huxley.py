"""GLIF1-5 fitted to a Hodgkin-Huxley neuron: how well does each level predict its spikes?

The source document sets GLIF against Hodgkin-Huxley. Here NEST's ``hh_cond_exp_traub`` (E_L = -65 mV,
a continuous f-I curve; DESIGN.md section 6) is the recorded cell: it is driven by
Ornstein-Uhlenbeck currents (correlation time 3 ms) of several means and standard deviations, in the
fluctuation-driven regime where its spikes lock to the input, and V is recorded at 0.05 ms (20 kHz).
GLIF levels 1-5 are fitted on the training sweeps with :func:`glif_pynn.fit.fit` (spikes found in V,
cut as Allen does) on two sweeps of each stimulus and judged on held-out sweeps: the same means and
deviations, other noise seeds.

Published figures for comparison: simple threshold models fitted to a detailed conductance-based
model predict 70-80 % of its spikes within +-2 ms (Jolivet, Lewis & Gerstner 2004, J Neurophysiol
92:959), the adaptive exponential integrate-and-fire model 96 % (Brette & Gerstner 2005).

The recordings are cached (``$GLIF_PYNN_CACHE_DIR/recordings``) and written as neo files
(``<output folder>/hh_training.pkl``, ``hh_test.pkl``) that ``glif-pynn fit`` reads.

    python examples/fit_hodgkin_huxley.py [--quick] [--levels 1,2,3,4,5] [--output results/fit_hh.png]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

DT = 0.05                   # ms: 20 kHz, NEST's resolution and the sampling of V
WARM_UP = 200.0             # ms simulated and dropped before each sweep (V_m starts off rest)
#: (mean, standard deviation) of the OU current in pA: near or below rheobase, large spread
STIMULI = ((0.0, 150.0), (20.0, 150.0), (0.0, 200.0), (40.0, 120.0), (20.0, 180.0), (40.0, 160.0))
TAU_OU = 3.0                # ms
#: noise seeds of the training sweeps: each stimulus twice (seeds 100-105 and 300-305); held out: 200-205.
#: Twice the data raised GLIF5's held-out Gamma from 0.767 to 0.783 (docs/guide/fitting.md); more levelled off.
TRAINING_SEEDS = (100, 300)
TEST_SEED = 200
#: sd (pA) of the extra OU input under which the held-out sweeps are rerun, to see how well the cell predicts itself
SELF_NOISE_PA = (0.0, 5.0, 8.0, 10.0, 15.0)
PUBLISHED = {"Jolivet et al. 2004, threshold models vs a detailed model": (0.70, 0.80),
             "Brette & Gerstner 2005, AdEx": (0.96, 0.96)}


def cache_dir() -> Path:
    root = os.environ.get("GLIF_PYNN_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) \
        / "glif-pynn"
    return Path(root) / "recordings"


def record_hh(mean_pA: float, std_pA: float, seed: int, duration: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(current in nA, V in mV, NEST's own spike times in ms) of ``hh_cond_exp_traub`` under an OU current, one
    sample per 0.05 ms, from the start of the sweep (cached)."""
    import nest
    key = hashlib.sha256(json.dumps([nest.__version__, "hh_cond_exp_traub", -65.0, DT, WARM_UP, TAU_OU, mean_pA,
                                     std_pA, seed, duration, "v2"]).encode()).hexdigest()[:20]
    path = cache_dir() / f"hh-{key}.npz"
    if path.is_file():
        with np.load(path) as data:
            return data["current"], data["v"], data["spikes"]
    n_warm, n = int(round(WARM_UP / DT)), int(round(duration / DT))
    current = ou_stimulus(mean_pA, std_pA, seed, duration)
    v, spikes = simulate_hh(current)
    current, v, spikes = current[n_warm:n_warm + n] * 1e-3, v[n_warm:n_warm + n], in_sweep(spikes, duration)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.npz")
    np.savez(tmp, current=current, v=v, spikes=spikes)
    os.replace(tmp, path)
    return current, v, spikes


def ou_stimulus(mean_pA: float, std_pA: float, seed, duration: float) -> np.ndarray:
    """The OU current (pA, one value per step) of a sweep of ``duration`` ms, warm-up included."""
    from glif_pynn.fit.synthetic import ou_current
    return ou_current(WARM_UP + duration, DT, mean_pA, std_pA, TAU_OU, seed=seed)


def in_sweep(spike_times: np.ndarray, duration: float) -> np.ndarray:
    """Spike times of a whole run (ms) as times in the sweep after the warm-up, within ``(0, duration)``."""
    times = spike_times - WARM_UP
    return times[(times > 0) & (times < duration)]


def simulate_hh(current_pA: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """V (mV, ``v[k]`` at k dt) and spike times (ms) of ``hh_cond_exp_traub`` from rest, driven by
    ``current_pA`` (one value per step, warm-up included)."""
    import nest
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = DT
    cell = nest.Create("hh_cond_exp_traub", params={"E_L": -65.0, "V_m": -65.0})
    # current[k] drives the step (k dt, (k + 1) dt]: a generator connected with delay dt, set one step early
    steps = np.arange(2, len(current_pA))
    generator = nest.Create("step_current_generator", params={"amplitude_times": (steps - 1) * DT,
                                                               "amplitude_values": current_pA[steps]})
    nest.Connect(generator, cell, syn_spec={"delay": DT})
    meter = nest.Create("multimeter", params={"interval": DT, "record_from": ["V_m"]})
    nest.Connect(meter, cell)
    recorder = nest.Create("spike_recorder")
    nest.Connect(cell, recorder)
    nest.Simulate(len(current_pA) * DT + DT)
    return np.r_[-65.0, meter.events["V_m"]][:len(current_pA)], recorder.events["times"]


def self_agreement(stimuli, seed: int, duration: float, noise_pA=SELF_NOISE_PA, repeats: int = 8) -> dict:
    """How well the cell predicts itself: Gamma (+-2 ms) between its spikes on the sweeps ``seed``, ``seed + 1``,
    ... and its spikes when an independent OU current (correlation time ``TAU_OU``) of standard deviation
    ``noise`` pA is added to the input; mean over ``repeats`` draws (one without noise) and over the sweeps, with
    the standard error of that mean over the draws. A model whose errors act on the spike times like that much
    input noise would score about as much."""
    from glif_pynn.metrics import coincidence_factor
    per_draw = np.zeros((len(noise_pA), repeats, len(stimuli)))
    for k, (mean, std) in enumerate(stimuli):
        _, _, recorded = record_hh(mean, std, seed + k, duration)
        stimulus = ou_stimulus(mean, std, seed + k, duration)
        for i, noise in enumerate(noise_pA):
            for r in range(1 if noise == 0 else repeats):
                extra = ou_stimulus(0.0, noise, (seed + k, 1, r), duration)
                spikes = in_sweep(simulate_hh(stimulus + extra)[1], duration)
                per_draw[i, r, k] = coincidence_factor(spikes, recorded, duration)
    noiseless = np.asarray(noise_pA) == 0
    per_draw[noiseless] = per_draw[noiseless, :1]         # its one draw stands for all
    draw_means = per_draw.mean(axis=2)
    sem = draw_means.std(axis=1, ddof=1) / np.sqrt(repeats) if repeats > 1 else np.full(len(noise_pA), np.nan)
    return {"noise_pA": list(noise_pA), "gamma": draw_means.mean(axis=1).tolist(), "gamma_sem": sem.tolist(),
            "gamma_per_sweep": per_draw.mean(axis=1).tolist(), "repeats": repeats}


def equivalent_noise(agreement: dict, gamma: float) -> float:
    """The added input noise (pA) under which the cell's agreement with itself is ``gamma``: linear interpolation
    of ``self_agreement``'s curve, which falls with the noise; nan outside the noise measured."""
    noise, curve = np.asarray(agreement["noise_pA"], float), np.asarray(agreement["gamma"], float)
    if not curve[-1] <= gamma <= curve[0]:
        return float("nan")
    return float(np.interp(gamma, curve[::-1], noise[::-1]))


def segments(stimuli, seed: int, duration: float, role: str) -> list:
    """neo Segments (``current`` in nA, ``v`` in mV) of the recorded cell; spikes are left to the fit to find."""
    import neo
    import quantities as pq
    out = []
    for k, (mean, std) in enumerate(stimuli):
        current, v, _ = record_hh(mean, std, seed + k, duration)
        seg = neo.Segment(name=f"{role} {k}: OU mean {mean:g} pA, sd {std:g} pA, seed {seed + k}")
        seg.analogsignals += [neo.AnalogSignal(current, units="nA", sampling_period=DT * pq.ms, name="current"),
                              neo.AnalogSignal(v, units="mV", sampling_period=DT * pq.ms, name="v")]
        out.append(seg)
    return out


def write_neo(segs: list, path: Path) -> Path:
    import neo
    block = neo.Block(name=path.stem)
    block.segments += segs
    path.parent.mkdir(parents=True, exist_ok=True)
    neo.io.PickleIO(str(path)).write_block(block)
    return path


def study(levels=(1, 2, 3, 4, 5), quick: bool = False, output: Path = Path("results/fit_hh.png"),
          progress=print, write_recordings: bool = True) -> dict:
    """Record (or load) the sweeps, fit each level, score it on the held-out sweeps; write the figure
    (and, with ``write_recordings``, the sweeps as neo files beside it)."""
    from glif_pynn.fit import fit
    duration, stimuli = (5000.0, STIMULI[:3]) if quick else (10000.0, STIMULI)
    started = time.monotonic()
    training = [seg for seed in (TRAINING_SEEDS[:1] if quick else TRAINING_SEEDS)
                for seg in segments(stimuli, seed, duration, "training")]
    test = segments(stimuli, TEST_SEED, duration, "test")
    recorded = time.monotonic() - started
    progress(f"recordings ready ({len(training)} + {len(test)} sweeps of {duration / 1e3:g} s, {recorded:.0f} s)")
    if write_recordings:
        write_neo(training, output.parent / "hh_training.pkl")
        write_neo(test, output.parent / "hh_test.pkl")
    rows = []
    for level in levels:
        started = time.monotonic()
        result = fit(training, level, test=test, seed=1, generations=8 if quick else 30,
                     progress=lambda line, level=level: progress(f"GLIF{level}: {line}"))
        rows.append({"level": level, "name": result.name, "test_gamma": result.scores["test"]["gamma"],
                     "test_gamma_per_sweep": result.scores["test"]["gamma_per_sweep"],
                     "training_gamma": result.scores["training"]["gamma"],
                     "test_explained_variance": result.scores["test"]["explained_variance"],
                     "test_v_rmse_mV": result.scores["test"]["v_rmse_mV"],
                     "test_spikes_model": sum(result.scores["test"]["spikes_model"]),
                     "test_spikes_data": sum(result.scores["test"]["spikes_data"]),
                     "fit_seconds": time.monotonic() - started, "parameters": result.parameters})
    best = max(rows, key=lambda r: r["test_gamma"])
    figure(rows, test, output)
    started = time.monotonic()
    itself = self_agreement(stimuli, TEST_SEED, duration, (0.0, 5.0, 10.0) if quick else SELF_NOISE_PA, 2 if quick else 8)
    itself.update(seconds=time.monotonic() - started, best_level_noise_pA=equivalent_noise(itself, best["test_gamma"]),
                  goal_noise_pA=equivalent_noise(itself, 0.8))
    progress(f"the cell against itself with extra input noise: {itself['seconds']:.0f} s")
    return {"rows": rows, "best_level": best["level"], "best_test_gamma": best["test_gamma"], "goal": 0.8,
            "published": PUBLISHED, "quick": quick, "sweep_ms": duration, "stimuli_pA": [list(s) for s in stimuli],
            "training_sweeps": len(training), "test_sweeps": len(test), "recording_seconds": recorded, "figure": output.name, "self_agreement": itself}


def figure(rows: list, test: list, path: Path) -> Path:
    """Gamma per level beside the published figures, and 1 s of held-out sweep 0 with the best level's V."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from glif_pynn.fit.data import as_sweeps
    from glif_pynn.fit.scores import simulate
    best = max(rows, key=lambda r: r["test_gamma"])
    sweep = as_sweeps(test[:1], "test")[0]
    n = min(sweep.n, int(round(1000.0 / DT)))
    run = simulate(best["parameters"], [sweep.current[:n]], DT, record_v=[0])[0]
    fig, (ax_bar, ax_v) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=[1, 2])
    names = [f"GLIF{r['level']}" for r in rows]
    ax_bar.bar(names, [r["test_gamma"] for r in rows], color="C0", label="held out")
    ax_bar.plot(names, [r["training_gamma"] for r in rows], "k_", ms=20, label="training")
    ax_bar.axhspan(0.70, 0.80, color="C1", alpha=0.25, label="Jolivet et al. 2004 (70-80 %)")
    ax_bar.axhline(0.96, color="C2", ls="--", lw=1, label="AdEx, Brette & Gerstner 2005")
    ax_bar.set_ylim(0, 1.45)
    ax_bar.set_yticks(np.arange(0, 1.01, 0.2))
    ax_bar.set_ylabel("coincidence factor Gamma (+-2 ms)")
    ax_bar.legend(fontsize=6, loc="upper left")
    ax_bar.set_title("hh_cond_exp_traub: spikes predicted")
    t = np.arange(n) * DT
    ax_v.plot(t, sweep.v[:n], color="0.5", lw=0.6, label="Hodgkin-Huxley V")
    ax_v.plot(t, run["v"], color="C3", lw=0.8, label=f"{best['name']} V")
    ax_v.vlines(sweep.spike_times[sweep.spike_times < n * DT], 42, 48, color="k", lw=1)
    ax_v.vlines(run["spikes"] * DT, 50, 56, color="C3", lw=1)
    ax_v.set_xlabel("time (ms), held-out sweep 0")
    ax_v.set_ylabel("mV")
    ax_v.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> dict:
    options = argparse.ArgumentParser(prog="fit_hodgkin_huxley.py", description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="3 + 3 sweeps of 5 s, 8 generations "
                         "(the full study: 12 training and 6 held-out sweeps of 10 s, 30 generations)")
    options.add_argument("--levels", default="1,2,3,4,5", help="GLIF levels to fit (default: %(default)s)")
    options.add_argument("--output", default="results/fit_hh.png", help="figure path (default: %(default)s)")
    args = options.parse_args(argv)
    levels = tuple(int(x) for x in args.levels.split(","))
    result = study(levels, args.quick, Path(args.output), progress=lambda line: print(line, flush=True))
    print("\nlevel            held-out Gamma  training Gamma  held-out EV  spikes model/data")
    for r in result["rows"]:
        print(f"GLIF{r['level']} {r['name'].split('(')[1][:-1]:<12} {r['test_gamma']:14.3f} {r['training_gamma']:15.3f}"
              f" {r['test_explained_variance']:12.3f}  {r['test_spikes_model']}/{r['test_spikes_data']}")
    print("published: threshold models 0.70-0.80 (Jolivet et al. 2004), AdEx 0.96 (Brette & Gerstner 2005); "
          f"goal >= 0.8: best here GLIF{result['best_level']} {result['best_test_gamma']:.3f}")
    itself = result["self_agreement"]
    print("the cell against itself, extra input noise sd (pA) -> Gamma: "
          + ", ".join(f"{n:g} -> {g:.3f}" for n, g in zip(itself["noise_pA"], itself["gamma"]))
          + f"; GLIF{result['best_level']} scores as the cell does with {itself['best_level_noise_pA']:.1f} pA")
    print(f"figure: {args.output}")
    return result


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()

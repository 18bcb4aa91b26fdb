"""One training epoch of the default command with PyTorch's OpenMP threads spinning (the runtime's default
when OMP_WAIT_POLICY is unset) and sleeping (OMP_WAIT_POLICY=PASSIVE, what the ferbench CLI sets).

Each setting runs in a fresh process (the policy is read when PyTorch loads its OpenMP runtime),
alternating ``--rounds`` times; every process trains fold 0 of ``synthetic`` for one epoch from
the warm input cache and reports the engine's step timers (wall and CPU seconds, loader in the
main process). On a machine whose cores are busy with other work the spinning threads take the
cores from the threads they wait for.

    python benchmarks/omp_wait_policy.py [--rounds 2] [--dataset synthetic]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def child(dataset: str) -> None:
    from ferbench.engine.config import make_config
    from ferbench.engine.runner import Runner
    from ferbench.plugins import Registry

    import tempfile

    with tempfile.TemporaryDirectory() as out:
        cfg = make_config({"dataset": dataset}, {}, {"epochs": 1, "num_workers": 0}, output_dir=out, folds=(0,))
        runner = Runner(cfg, Registry(), progress=False, log=lambda s: None)
        ids = list(runner.folds[0].train)
        runner.check_inputs(ids)
        trainer = runner.fold_trainer(0, profile=True)
        trainer.fit(runner.loader(ids, train=True), None)
    st = trainer.step_times
    print(json.dumps({"steps": st.steps, "wall": st.data_s + st.forward_s + st.backward_s, "data_wall": st.data_s,
                      "cpu": st.data_cpu_s + st.forward_cpu_s + st.backward_cpu_s, "data_cpu": st.data_cpu_s}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.dataset)
        return
    results: dict[str, list[dict]] = {"unset (spin)": [], "PASSIVE (sleep)": []}
    for _ in range(args.rounds):
        for label, policy in (("unset (spin)", None), ("PASSIVE (sleep)", "PASSIVE")):
            env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
            if policy:
                env["OMP_WAIT_POLICY"] = policy
            out = subprocess.run([sys.executable, __file__, "--child", "--dataset", args.dataset], env=env,
                                 capture_output=True, text=True, check=True).stdout
            results[label].append(json.loads(out.strip().splitlines()[-1]))
    load = os.getloadavg()[0]
    print(f"one epoch of fold 0 ({args.dataset}, rgb+small-cnn+mean), loader in the main process, "
          f"{args.rounds} alternating runs each, load average {load:.1f} at the end:")
    for label, runs in results.items():
        wall = sum(r["wall"] for r in runs) / len(runs)
        cpu = sum(r["cpu"] for r in runs) / len(runs)
        data = sum(r["data_wall"] for r in runs) / len(runs)
        print(f"  OMP_WAIT_POLICY {label:16s} steps {runs[0]['steps']}: {wall:6.1f} s wall ({data:5.1f} s waiting "
              f"for data), {cpu:6.1f} CPU s; runs: " + ", ".join(f"{r['wall']:.1f}" for r in runs))


if __name__ == "__main__":
    main()

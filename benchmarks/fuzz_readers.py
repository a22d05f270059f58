"""The long fuzzing run: as many mutated files as asked through container parsing and every reader.

The CI test (tests/signals/test_fuzz.py) runs 3,000 cases of one seed; this runs more, of other seeds,
under an address-space limit (so an allocation gone wild is a MemoryError, caught and counted, rather
than a machine out of memory), and prints the figures: cases, crashes (an exception escaping
``inspect_bytes``), unexplained failures (caught only by a last-resort guard), the slowest case, the
largest Python-heap growth of one case and the process's peak RSS. Failing inputs are written to
``--out`` to be replayed (``inspect_bytes(Path(f).read_bytes())``).

    python benchmarks/fuzz_readers.py --cases 50000 --seed 7 --out /tmp/fuzz-findings
"""

from __future__ import annotations

import argparse
import collections
import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests/signals/_fuzz.py

from tests.signals import _fuzz  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pixel-every", type=int, default=25, help="every Nth case also runs the pixel readers")
    ap.add_argument("--memory-limit-mib", type=int, default=4096, help="address-space limit of this process")
    ap.add_argument("--out", type=Path, default=None, help="folder for the inputs that crashed or failed")
    args = ap.parse_args()

    limit = args.memory_limit_mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.simplefilter("ignore")  # Pillow warns about every corrupt TIFF tag it skips
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)

    per_seed: collections.Counter[str] = collections.Counter()
    failures: list[_fuzz.Outcome] = []
    start = time.perf_counter()

    def record(outcome: _fuzz.Outcome) -> None:
        per_seed[outcome.case.seed_name] += 1
        if outcome.crash or outcome.problems:
            failures.append(outcome)
            if args.out:
                (args.out / f"{outcome.case.index:07d}-{outcome.case.seed_name}.bin").write_bytes(outcome.case.data)
        done = sum(per_seed.values())
        if done % 5000 == 0:
            print(f"  {done} cases, {len(failures)} failing, {time.perf_counter() - start:.0f} s", flush=True)

    outcomes = _fuzz.run(args.seed, args.cases, pixel_every=args.pixel_every, on_outcome=record)
    elapsed = time.perf_counter() - start
    slowest = max(outcomes, key=lambda o: o.seconds)
    largest = max(outcomes, key=lambda o: o.heap_peak)
    crashes = [o for o in failures if o.crash]
    unexplained = [o for o in failures if o.problems]
    print(f"cases            {len(outcomes)} (seed {args.seed}, {len(per_seed)} seed files, "
          f"{sum(o.case.pixels for o in outcomes)} with pixel readers)")
    print(f"time             {elapsed:.1f} s ({len(outcomes) / elapsed:.0f} files/s)")
    print(f"crashes          {len(crashes)}")
    print(f"unexplained      {len(unexplained)}")
    print(f"slowest case     {slowest.seconds * 1000:.0f} ms ({slowest.case.seed_name} #{slowest.case.index}, "
          f"pixels={slowest.case.pixels})")
    print(f"largest heap     {largest.heap_peak / _fuzz.MiB:.1f} MiB ({largest.case.seed_name} #{largest.case.index})")
    print(f"peak RSS         {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (process)")
    for o in failures[:10]:
        print(f"--- {o.case.seed_name} #{o.case.index}")
        print(o.crash or "\n".join(o.problems))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

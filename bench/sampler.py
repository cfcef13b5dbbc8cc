"""A small statistical profiler: where one thread spends its wall time, at almost no cost.

    with StackSampler() as sampler:
        services.availability.search(caller, query)
    sampler.report(is_ours)

A daemon thread reads the profiled thread's stack (`sys._current_frames`) every `interval`
seconds. Each sample counts once for the function at the top of the stack (self time) and once
for every distinct function on it (cumulative time). Unlike cProfile, it adds no cost to each
Python call, so the profiled run keeps its normal speed and its shares are shares of wall time;
it gives no call counts. Samples land only when the profiled thread releases the GIL (every
`sys.getswitchinterval()`, 5 ms by default), so the effective rate is about 200 per second.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

Key = tuple[str, int, str]  # filename, first line, function name


class StackSampler:
    def __init__(self, interval: float = 0.002, thread_id: int | None = None) -> None:
        self.interval = interval
        self.thread_id = thread_id if thread_id is not None else threading.get_ident()
        self.samples = 0
        self.self_counts: Counter[Key] = Counter()
        self.cumulative_counts: Counter[Key] = Counter()
        self.stacks: Counter[tuple[Key, ...]] = Counter()  # leaf first
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.seconds = 0.0

    def __enter__(self) -> StackSampler:
        self._started = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="stack-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.seconds = time.perf_counter() - self._started

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            frame = sys._current_frames().get(self.thread_id)
            if frame is not None:
                self._take(frame)

    def _take(self, frame: FrameType | None) -> None:
        stack: list[Key] = []
        while frame is not None:
            code = frame.f_code
            stack.append((code.co_filename, code.co_firstlineno, code.co_name))
            frame = frame.f_back
        if not stack:
            return
        self.self_counts[stack[0]] += 1
        for key in set(stack):
            self.cumulative_counts[key] += 1
        self.stacks[tuple(stack)] += 1
        self.samples += 1

    def report(self, package_of: Callable[[str], str], is_ours: Callable[[str], bool], short: Callable[[str], str],
               top: int = 12) -> dict[str, Any]:
        """Shares of samples. `package_of(filename)` names a frame's package; those starting with "ours"
        count as our code. A function's own_code_share: samples with it on the stack while the time was
        our code's (or the stdlib's on our behalf), i.e. its cost without the libraries beneath it."""
        n = max(self.samples, 1)
        by_package: Counter[str] = Counter()
        for (filename, _, _), count in self.self_counts.items():
            by_package[package_of(filename)] += count
        # The same, with time in the standard library (and generated dataclass methods) charged to the
        # package that called into it: copy.deepcopy under moto is moto's, strptime under our code is ours.
        charged: Counter[str] = Counter()
        own_code: Counter[Key] = Counter()  # samples in our code (or stdlib it called) under each function
        for stack, count in self.stacks.items():
            # The profiled thread blocked on a lock or future: reader threads do the work meanwhile (the
            # search's concurrent BatchGetItem calls), which is not our code's time.
            owner = WAITING if _waiting(stack[0]) else next(
                (p for p in (package_of(k[0]) for k in stack)
                 if p not in ("stdlib", "builtins (C)") and not p.startswith("generated")), "stdlib")
            charged[owner] += count
            if owner.startswith("ours"):
                for key in {k for k in stack if is_ours(k[0])}:
                    own_code[key] += count
        ours = [k for k in self.cumulative_counts if is_ours(k[0])]

        def row(key: Key) -> dict[str, Any]:
            filename, line, name = key
            return {"function": f"{short(filename)}:{line}({name})",
                    "self_share": round(self.self_counts.get(key, 0) / n, 3),
                    "own_code_share": round(own_code.get(key, 0) / n, 3),
                    "cumulative_share": round(self.cumulative_counts[key] / n, 3)}

        return {
            "method": f"stack sampling every {self.interval * 1000:.0f} ms of wall time ({self.samples} samples "
                      f"over {self.seconds:.1f} s)",
            "samples": self.samples,
            "self_time_share_by_package": {k: round(v / n, 3) for k, v in by_package.most_common()},
            "self_time_share_by_package_stdlib_charged_to_caller": {
                k: round(v / n, 3) for k, v in charged.most_common()},
            "our_top_functions_by_self_time": [
                row(k) for k in sorted(ours, key=lambda k: -self.self_counts.get(k, 0))[:top]
                if self.self_counts.get(k, 0)],
            "our_top_functions_by_cumulative_time": [
                row(k) for k in sorted(ours, key=lambda k: -self.cumulative_counts[k])[:top]],
            "our_code_share": round(sum(v for k, v in charged.items() if k.startswith("ours")) / n, 3),
            "our_top_functions_by_own_code_time": [
                row(k) for k, _ in own_code.most_common(top)],
        }


WAITING = "waiting on reader threads (concurrent DynamoDB calls)"


def _waiting(frame: Key) -> bool:
    filename, _, name = frame
    return (filename.endswith(("/threading.py", "/concurrent/futures/_base.py"))
            and name in ("wait", "result", "_wait_for_tstate_lock", "as_completed", "_result_or_cancel"))

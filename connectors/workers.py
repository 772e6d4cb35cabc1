"""Contained parsing: every inbox file is read in a worker process with hard limits, so that a file
that makes a reader abort from native code (a Rust allocation failure, a panic that kills the process)
or exhausts a limit kills that worker, never the run.

What belongs here: the limits (`Limits`), the worker's side (limits set before any file is touched)
and the parent's side (`Worker`: one process per call, started from a forkserver whose modules are
preloaded, its result read back through a pipe, its death turned into a `Crash` that says why).

Each call gets a fresh process: a death is attributable to exactly the call it ran (no shared pool to
break, no neighbour's batch lost), and the address-space limit starts from a clean process. The
connector (`connectors.filedrop`) runs a batch of files per call and, when a call dies, the batch
again file by file, each alone: the file that still dies is quarantined naming it.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import resource
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.safety import MAX_CELLS as DEFAULT_MAX_CELLS  # a sheet's used range (rows × columns)

DEFAULT_MEMORY_BYTES = 3 * 1024**3  # address space of one worker (RLIMIT_AS)
DEFAULT_CPU_SECONDS = 300  # CPU time of one call (a batch of files, or one file alone)

PRELOAD = ["connectors.filedrop", "connectors.reshapers", "connectors.json_layouts"]


@dataclass(frozen=True)
class Limits:
    """Hard limits of a parse worker (0 = no limit): its address space in bytes, the CPU seconds of one
    call, and the cells of one sheet's used range (checked from the sheet XML before a reader runs)."""

    memory_bytes: int = DEFAULT_MEMORY_BYTES
    cpu_seconds: int = DEFAULT_CPU_SECONDS
    max_cells: int = DEFAULT_MAX_CELLS


@dataclass(frozen=True)
class Crash:
    """How a worker ended without a result: its exit code (negative: the signal that killed it)."""

    exitcode: int | None

    @property
    def signal_name(self) -> str:
        if self.exitcode is not None and self.exitcode < 0:
            try:
                return signal.Signals(-self.exitcode).name
            except ValueError:
                return f"signal {-self.exitcode}"
        return f"exit code {self.exitcode}"

    @property
    def cpu_exhausted(self) -> bool:
        """Killed by its CPU-time limit (SIGXCPU, or SIGKILL past the hard limit)."""
        return self.exitcode in (-signal.SIGXCPU, -signal.SIGKILL)


def context() -> mp.context.ForkServerContext:
    """The forkserver context parse workers start from (modules preloaded once per parent process)."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def warm_up() -> None:
    """Start the forkserver now (it imports the parse modules while the caller plans its files)."""
    try:
        from multiprocessing import forkserver

        context()
        forkserver.ensure_running()
    except (OSError, ValueError):  # no forkserver here: the first Worker reports it
        pass


def apply_limits(limits: Limits) -> None:
    """In a worker, before it reads anything: no core files, its address space and its CPU time."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    if limits.cpu_seconds:
        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(used.ru_utime + used.ru_stime) + limits.cpu_seconds
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or soft < hard:
            resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _main(
    conn: multiprocessing.connection.Connection, limits: Limits, fn: Callable[[Any], Any], arg: Any
) -> None:
    """Worker entry point: the limits, the call, its result (or its Python exception) down the pipe."""
    apply_limits(limits)
    try:
        out: tuple[str, Any] = ("ok", fn(arg))
    except MemoryError:
        out = ("memory", None)
    except Exception as exc:  # reported to the parent, which treats the call as failed
        out = ("error", f"{type(exc).__name__}: {str(exc)[:300]}")
    try:
        conn.send(out)
    except MemoryError:
        conn.send(("memory", None))
    conn.close()


class WorkerFailed(Exception):
    """A call did not give a result: the worker died (`crash`), ran out of memory or raised."""

    def __init__(self, crash: Crash | None, memory: bool = False, error: str = "") -> None:
        super().__init__(error or (crash.signal_name if crash else "out of memory"))
        self.crash, self.memory, self.error = crash, memory, error


class Worker:
    """`fn(arg)` in its own process under `limits`; `result()` returns its value or raises
    `WorkerFailed`. `fn` must be a module-level function and `arg` picklable."""

    def __init__(self, fn: Callable[[Any], Any], arg: Any, limits: Limits) -> None:
        ctx = context()
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_main, args=(send, limits, fn, arg), daemon=True)
        self._proc.start()
        send.close()
        self._done = False

    def result(self) -> Any:
        """Wait for the call; its value, or `WorkerFailed`."""
        try:
            kind, value = self._recv.recv()
        except (EOFError, OSError):
            kind, value = "died", None
        finally:
            self._recv.close()
            self._proc.join()
            self._done = True
        if kind == "ok":
            return value
        crash = Crash(self._proc.exitcode) if kind == "died" else None
        raise WorkerFailed(crash, memory=kind == "memory", error=value if kind == "error" else "")

    def cancel(self) -> None:
        """Stop a call whose result is no longer wanted."""
        if not self._done:
            self._proc.kill()
            self._proc.join()
            self._recv.close()
            self._done = True


def run_alone(fn: Callable[[Any], Any], arg: Any, limits: Limits) -> Any:
    """`Worker(fn, arg, limits).result()`."""
    return Worker(fn, arg, limits).result()

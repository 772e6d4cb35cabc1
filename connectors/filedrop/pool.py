"""Step 3 of an ingest run: parsed files, in plan order, from an iterator (`ParsedFiles`) that hides the
parse pool, its window of batches ahead of the storing, and its fallback (a batch whose worker dies parsed
again file by file, a file that dies alone quarantined naming what stopped it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from connectors.filedrop.files import (
    sha256_of,
)
from connectors.filedrop.parse import (
    FileResult,
    ParseJob,
    _scrub,
    parse_files,
)
from connectors.filedrop.plan import (
    FileDecision,
)
from connectors.filedrop.registry import (
    Registry,
)
from connectors.filedrop.store import (
    pack,
)
from connectors.layouts import load_layouts
from connectors.messages import reason_text
from connectors.workers import Limits, Worker, WorkerFailed

INGEST_WORKERS = 2  # parse processes at once (the machine has 2 cores); 0 parses in this process, uncontained
PARSE_BATCH_FILES = 64  # files parsed together (their sheets of one layout in one pass)
PARSE_BATCH_BYTES = 16 * 1024 * 1024  # ... or fewer files when they are this large


def _parse_job(jobs: list[ParseJob]) -> list[FileResult]:
    """Worker side of the parse pool (module level so that it pickles): one batch of files, packed."""
    return pack(parse_files(jobs, load_layouts()))


def parse_batches(todo: list[FileDecision]) -> list[list[int]]:
    """The files to parse (todo positions, in order; blocked files are not parsed) cut into batches of
    at most PARSE_BATCH_FILES files and PARSE_BATCH_BYTES."""
    batches: list[list[int]] = []
    cur: list[int] = []
    cur_bytes = 0
    for i, d in enumerate(todo):
        if d.blocked:
            continue
        size = len(d.data or b"")
        if cur and (len(cur) >= PARSE_BATCH_FILES or cur_bytes + size > PARSE_BATCH_BYTES):
            batches.append(cur)
            cur, cur_bytes = [], 0
        cur.append(i)
        cur_bytes += size
    if cur:
        batches.append(cur)
    return batches


class ParsedFiles:
    """Files in order with their parse results, all parsed with one registry snapshot. Each batch of files
    is parsed in its own worker process under `limits` (`connectors.workers`), up to `workers` batches at
    once, ahead of the storing; `workers` 0 parses in this process (no containment). A batch whose worker
    dies (a native abort, a limit) is parsed again file by file, each alone: its other files load as
    they would have, and a file whose worker dies alone is quarantined naming what stopped it
    (`file_too_large` for a memory or CPU limit, `reader_crashed` otherwise)."""

    def __init__(
        self,
        todo: list[FileDecision],
        registry: Registry,
        hash_key: str,
        workers: int | None,
        progress: Callable[[str], None] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.todo, self.registry, self.hash_key, self.progress = todo, registry, hash_key, progress
        self.limits = limits or Limits()
        self.batches = parse_batches(self.todo)
        self.batch_of = {i: b for b, idxs in enumerate(self.batches) for i in idxs}
        self.workers = INGEST_WORKERS if workers is None else workers
        self.running: dict[int, Worker] = {}  # batch → its worker
        self.parsed: dict[int, FileResult] = {}  # todo position → its result, until taken
        self.consumed = -1  # the last batch whose files have all been taken

    def __enter__(self) -> ParsedFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for w in self.running.values():
            w.cancel()
        self.running.clear()

    def __iter__(self) -> Iterator[tuple[FileDecision, FileResult]]:
        for i, d in enumerate(self.todo):
            if self.progress:
                self.progress(d.rel)
            yield d, self._take(i, d)

    def _take(self, i: int, d: FileDecision) -> FileResult:
        if d.blocked:
            size = d.path.lstat().st_size
            return FileResult(
                d.rel,
                d.sha256,
                size,
                "quarantined",
                d.blocked[0],
                f"{reason_text(d.blocked[0])} ({d.blocked[1]})",
            )
        b = self.batch_of[i]
        if i not in self.parsed:
            self._collect(b, i)
        res = self.parsed.pop(i)
        d.data = None  # the content is no longer needed
        if self.batches[b][-1] == i:  # the batch is all taken: the window moves on
            self.consumed = max(self.consumed, b)
        return res

    def _jobs(self, idxs: list[int]) -> list[ParseJob]:
        return [
            ParseJob(
                self.todo[i].path,
                self.todo[i].rel,
                self.registry.context(self.todo[i].rel, self.hash_key),
                self.todo[i].sha256 or None,
                self.todo[i].data,
                self.limits.max_cells,
            )
            for i in idxs
        ]

    def _submit_ahead(self) -> None:
        """Keep `workers` batches in their workers."""
        if self.workers <= 0:
            return
        for b in range(self.consumed + 1, len(self.batches)):
            if len(self.running) >= self.workers:
                return
            if b not in self.running and not any(i in self.parsed for i in self.batches[b]):
                self.running[b] = Worker(_parse_job, self._jobs(self.batches[b]), self.limits)

    def _collect(self, b: int, start: int) -> None:
        """Results of batch b's files from todo position `start` on, into `parsed`."""
        idxs = [i for i in self.batches[b] if i >= start]
        if self.workers <= 0:
            got = parse_files(self._jobs(idxs), load_layouts())
        else:
            self._submit_ahead()
            w = self.running.pop(b, None) or Worker(_parse_job, self._jobs(idxs), self.limits)
            try:
                got = w.result()[-len(idxs) :]
            except WorkerFailed as exc:
                got = self._alone(idxs, exc)
        for i, res in zip(idxs, got, strict=True):
            self.parsed[i] = res
        # only now, with batch b's results in `parsed`: before, the window saw b as neither running nor
        # parsed and started it again, in a worker nobody would read (its slot held until the end)
        self._submit_ahead()

    def _alone(self, idxs: list[int], failure: WorkerFailed) -> list[FileResult]:
        """The files of a batch whose worker died, each parsed alone; one that dies alone is quarantined."""
        if len(idxs) == 1:
            return [self._stopped(idxs[0], failure)]
        out: list[FileResult] = []
        for i in idxs:
            try:
                out += Worker(_parse_job, self._jobs([i]), self.limits).result()
            except WorkerFailed as exc:
                out.append(self._stopped(i, exc))
        return out

    def _stopped(self, i: int, failure: WorkerFailed) -> FileResult:
        """A file whose worker died while it was read alone, quarantined with what stopped it."""
        d = self.todo[i]
        try:
            size = d.path.lstat().st_size
            sha = d.sha256 or sha256_of(d.path)
        except OSError:
            size, sha = len(d.data or b""), d.sha256
        crash = failure.crash
        if failure.memory:
            code, detail = (
                "file_too_large",
                f"vượt giới hạn bộ nhớ {self.limits.memory_bytes // 2**20} MiB khi đọc",
            )
        elif crash is not None and crash.cpu_exhausted:
            code, detail = "file_too_large", f"đọc tệp quá {self.limits.cpu_seconds} giây CPU"
        elif crash is not None:
            code, detail = "reader_crashed", f"tiến trình đọc tệp bị dừng: {crash.signal_name}"
        else:
            code, detail = "reader_crashed", f"lỗi khi đọc tệp: {_scrub(failure.error, d.path, d.rel)}"
        return FileResult(d.rel, sha, size, "quarantined", code, f"{reason_text(code)} ({detail})")

"""A batch's tokens config, made on another core while the build converts the next batch.

Segmentation is a release of format 2's costliest step and pure Python; so is the conversion
of the exports. A worker process makes a full batch's tokens config (`derived_tables.tokens_table`:
sentences, tokens, IOB2 tags) while the build converts the next batch, and the build writes
each batch when its table comes back, in the order the batches were converted: the files are
those of a build that makes every tokens table itself.

The worker is `python -m newscorpus.build.segment_ahead`, fed a pickled batch (texts and
mentions) on its stdin and answering the pickled Arrow table on its stdout, one batch at a time: a plain
process, so a script that calls `build_release` without a `__main__` guard works (multiprocessing
would import that script again in the worker). It starts with the first full batch: a build
smaller than a batch (every test project, a small corpus) segments in its own process; so
does a build on a single core.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from newscorpus.build.derived_tables import TokenInput, tokens_table
from newscorpus.errors import ReleaseError


class SegmentAhead:
    """`submit` a batch (`tokens_table`'s arguments), then take its `result` before the next `submit`;
    `close` ends the worker."""

    def __init__(self) -> None:
        self._worker: subprocess.Popen | None = None
        self._ready: pa.Table | None = None  # a batch's table made here, not by the worker
        self.parallel = usable_cores() > 1

    def submit(self, documents: list[TokenInput], tag_ids: dict[str, int], arrow: pa.Schema) -> None:
        if not self.parallel:
            self._ready = tokens_table(documents, tag_ids, arrow)
            return
        if self._worker is None:
            package_root = str(Path(__file__).resolve().parents[2])  # where `newscorpus` is imported from
            path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
            self._worker = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": path},
            )
        try:
            pickle.dump((documents, tag_ids, arrow), self._worker.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._worker.stdin.flush()
        except BrokenPipeError:  # it ended after its last answer
            raise self._ended() from None

    def result(self) -> pa.Table:
        if self._ready is not None:
            ready, self._ready = self._ready, None
            return ready
        try:
            return pickle.load(self._worker.stdout)
        except EOFError:
            raise self._ended() from None

    def _ended(self) -> ReleaseError:
        code = self._worker.wait()
        return ReleaseError(
            f"the segmentation worker ended with exit code {code} (its error, if any, is above; -9: killed, often"
            " for want of memory); nothing was written"
        )

    def close(self) -> None:
        if self._worker is not None:
            worker, self._worker = self._worker, None
            with contextlib.suppress(OSError):  # a worker that died leaves a broken pipe
                worker.stdin.close()  # the worker ends at the end of its input
            worker.stdout.close()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def __enter__(self) -> SegmentAhead:
        return self

    def __exit__(self, *_) -> None:
        self.close()


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    """The worker: each batch read from `source` is answered with its tokens table."""
    while True:
        try:
            documents, tag_ids, arrow = pickle.load(source)
        except EOFError:
            return
        try:
            pickle.dump(tokens_table(documents, tag_ids, arrow), sink, protocol=pickle.HIGHEST_PROTOCOL)
            sink.flush()
        except BrokenPipeError:  # the build stopped (an error in its input) and no longer reads: end quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sink.fileno())  # nothing left to flush at exit
            return


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)

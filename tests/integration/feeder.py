"""Input that keeps arriving while processor instances come and go; reaping them."""

from __future__ import annotations

import threading

from tests.integration.helpers import Processor, produce


class Feeder(threading.Thread):
    """Produces the input a slice at a time while instances come and go, so every kill
    lands mid-stream (the loop drains a pre-filled topic in a second or two); what is
    left when :meth:`finish` is called goes out at once."""

    def __init__(self, bootstrap: str, topic: str, lines: list[bytes], per_second: int) -> None:
        super().__init__(daemon=True)
        self.bootstrap, self.topic, self.lines = bootstrap, topic, lines
        self.slice = max(1, per_second // 4)
        self.hurry = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for start in range(0, len(self.lines), self.slice):
                produce(self.bootstrap, self.topic, self.lines[start : start + self.slice])
                self.hurry.wait(0.25)
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def finish(self) -> int:
        """Produce the rest now; returns how many messages were produced in all."""
        self.hurry.set()
        self.join(300)
        assert not self.is_alive() and self.error is None, self.error
        return len(self.lines)


def reap(*processes: Processor | None) -> None:
    """SIGKILL whichever of ``processes`` still run (a failed test must not leave any)."""
    for proc in processes:
        if proc is not None and proc.process.poll() is None:
            proc.kill()

"""The VOS3000 emulator in a process of its own.

Its CPU time and memory then never count as the portal's (peak RSS is the scenario process's
own), and the two do not share one GIL, as with a real softswitch. The scenario talks to it
over HTTP like the portal does, and drives it (faults, balances, counters) through a pipe.
"""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from typing import Any

START_TIMEOUT = 300  # building a large scale seed takes a while


def _serve(conn, seed: dict[str, Any]) -> None:
    from telephony.emulator import EmulatorServer, EmulatorState

    kind = seed.pop("kind")
    state = EmulatorState.demo() if kind == "demo" else EmulatorState.scale(**seed)
    server = EmulatorServer("127.0.0.1", port=0, state=state).start()
    conn.send(("ready", server.url))
    while True:
        try:
            command, arg = conn.recv()
        except EOFError:
            break
        try:
            conn.send(("ok", _command(server, state, command, arg)))
        except Exception as exc:  # sent back to the scenario, which raises it
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        if command == "stop":
            break


def _command(server, state, command: str, arg: Any) -> Any:
    if command == "stop":
        server.stop()
        return None
    if command == "faults":
        server.faults.update(arg)
        return server.faults.to_dict()
    if command == "calls":
        return dict(server.calls)
    if command == "calls_reset":
        server.calls.clear()
        return None
    if command == "balances":
        with state.lock:
            return {a: str(state.customers[a]["money"]) for a in arg if a in state.customers}
    if command == "pay":
        # Move balances on the VOS side (e.g. calls were made since the last sync).
        for account, amount in arg:
            state.pay(account, Decimal(amount), memo="bench")
        return len(arg)
    if command == "pay_memos":
        with state.lock:
            return [
                (r["account"], str(r["fee"]), r.get("memo") or "")
                for r in state.pay_history
                if (r.get("memo") or "").startswith(arg)
            ]
    raise ValueError(f"unknown command {command!r}")


class EmulatorProcess:
    """``with EmulatorProcess(kind="scale", accounts=100) as emu: emu.url``."""

    def __init__(self, **seed: Any):
        seed.setdefault("kind", "scale")
        self.seed = seed
        self.url = ""
        self._conn = None
        self._process = None

    def __enter__(self) -> EmulatorProcess:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, dict(self.seed)), daemon=True)
        self._process.start()
        if not self._conn.poll(START_TIMEOUT):
            self._kill()
            raise RuntimeError("the emulator did not start")
        status, self.url = self._conn.recv()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            if self._process.is_alive():
                self.ask("stop")
        except (OSError, EOFError, RuntimeError):
            pass
        self._kill()

    def _kill(self) -> None:
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)

    def ask(self, command: str, arg: Any = None) -> Any:
        self._conn.send((command, arg))
        if not self._conn.poll(120):
            raise RuntimeError(f"the emulator did not answer {command!r}")
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"emulator {command}: {value}")
        return value

    def faults(self, **changes: Any) -> dict[str, Any]:
        return self.ask("faults", changes)

    def calls(self) -> dict[str, int]:
        return self.ask("calls")

    def balances(self, accounts: list[str]) -> dict[str, Decimal]:
        return {a: Decimal(v) for a, v in self.ask("balances", accounts).items()}

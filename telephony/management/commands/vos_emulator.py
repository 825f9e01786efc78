"""``manage.py vos_emulator``: run the VOS3000 web interface emulator (docs/EMULATOR.md)."""

from __future__ import annotations

import random
import signal
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandError, CommandParser

from telephony.emulator import EmulatorServer, EmulatorState, Faults
from telephony.emulator.calls import simulate_call
from telephony.emulator.faults import GARBAGE_MODES


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError("a rate is between 0 and 1")
    return value


class Command(BaseCommand):
    help = "Run the VOS3000 web interface emulator (loopback only unless --host says otherwise)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8090)
        parser.add_argument(
            "--seed",
            default="demo",
            help="empty, demo, scale:N, scale:N:CDRS_PER_ACCOUNT_PER_DAY or scale:N:CDRS:RATES",
        )
        parser.add_argument(
            "--state",
            default="var/vos-emulator.json",
            help="JSON state file: loaded if it exists, else seeded; saved on every write. "
            "Empty to keep the state in memory only.",
        )
        parser.add_argument("--reset", action="store_true", help="ignore --state and reseed")
        parser.add_argument("--time-zone", help="the VOS server's zone, e.g. Asia/Shanghai")
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--error-rate", type=_rate, default=0.0)
        parser.add_argument("--drop-rate", type=_rate, default=0.0)
        parser.add_argument("--drop-after-pay-rate", type=_rate, default=0.0)
        parser.add_argument("--garbage-rate", type=_rate, default=0.0)
        parser.add_argument("--cdr-max-days", type=int, default=31)
        parser.add_argument(
            "--no-pay-memo", action="store_true", help="GetPayHistory without memo (2.1.7)"
        )
        parser.add_argument("--no-flow-no", action="store_true", help="CDRs without flowNo (2.1.7)")
        parser.add_argument("--strict-unknown", action="store_true")
        parser.add_argument("--fault-seed", type=int, default=0)
        parser.add_argument(
            "--garbage-mode",
            default="",
            choices=("", *GARBAGE_MODES),
            help="answer like a misbehaving switch (docs/EMULATOR.md)",
        )
        parser.add_argument(
            "--garbage-interfaces", default="", help="comma-separated; default: every one"
        )
        parser.add_argument(
            "--absurd-account", default="", help="this account's balance answers 19 digits"
        )
        parser.add_argument("--hang-seconds", type=float, default=0.0)
        parser.add_argument(
            "--traffic",
            type=float,
            metavar="SECONDS",
            help="every SECONDS, a random unlocked customer makes a call that is charged",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        faults = Faults(
            latency_ms=options["latency_ms"],
            error_rate=options["error_rate"],
            drop_rate=options["drop_rate"],
            drop_after_pay_rate=options["drop_after_pay_rate"],
            garbage_rate=options["garbage_rate"],
            cdr_max_days=options["cdr_max_days"],
            pay_history_memo=not options["no_pay_memo"],
            cdr_flow_no=not options["no_flow_no"],
            strict_unknown=options["strict_unknown"],
            seed=options["fault_seed"],
            garbage_mode=options["garbage_mode"],
            garbage_interfaces=options["garbage_interfaces"],
            absurd_account=options["absurd_account"],
            hang_seconds=options["hang_seconds"],
        )
        state_path = Path(options["state"]) if options["state"] else None
        state = self._state(options["seed"], state_path, options["reset"], options["time_zone"])
        try:
            server = EmulatorServer(options["host"], options["port"], state, faults, state_path)
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc
        server.start()
        self.stdout.write(
            f"VOS3000 emulator ({state.seed_spec}, {len(state.customers)} customers, "
            f"zone {state.time_zone}) at {server.url}\n"
            f"control: {server.base_url}/_emulator/health | faults | calls | reset | cards\n"
            f"state: {state_path or 'memory only'}. Ctrl-C to stop."
        )
        stopping = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopping.set())
        try:
            self._run(server, stopping, options["traffic"])
        finally:
            server.stop()
            self.stdout.write(
                "emulator stopped" + (f", state saved to {state_path}" if state_path else "")
            )

    def _state(
        self, seed: str, path: Path | None, reset: bool, time_zone: str | None
    ) -> EmulatorState:
        if path is not None and path.exists() and not reset:
            try:
                state = EmulatorState.load(path)
            except (OSError, ValueError, KeyError) as exc:
                raise CommandError(f"cannot load {path}: {exc} (use --reset to reseed)") from exc
        else:
            try:
                state = EmulatorState.from_spec(seed)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        if time_zone:
            try:
                ZoneInfo(time_zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise CommandError(f"unknown time zone {time_zone!r}") from exc
            state.time_zone = time_zone
        if path is not None:
            state.save(path)
        return state

    def _run(
        self, server: EmulatorServer, stopping: threading.Event, traffic: float | None
    ) -> None:
        if not traffic:
            stopping.wait()
            return
        rng = random.Random()
        while not stopping.wait(traffic):
            cdr = simulate_call(server.state, rng)
            if cdr is not None:
                server.state_changed()
                self.stdout.write(
                    f"call {cdr['account']} -> {cdr['calleeE164']}: "
                    f"{cdr['holdTime']} s, fee {cdr['fee']}"
                )

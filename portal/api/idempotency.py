"""``Idempotency-Key`` with Stripe's semantics, stored durably (accounts.IdempotentRequest).

The first request with a key inserts its row (the unique (user, key) constraint is the
conditional insert) and runs; its answer is stored. A repeat with the same body gets the
stored answer; with another body, 422; while the first still runs, 409. A row whose request
died (status 0 for longer than STALE_AFTER) is taken over by the next repeat — safe because
the operation behind it is itself idempotent on the same key (the ledger's key).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import IdempotentRequest

from .problems import ApiProblem

HEADER = "Idempotency-Key"
MAX_KEY = 255
STALE_AFTER = timedelta(minutes=5)


def request_hash(request: HttpRequest, payload: Any) -> str:
    body = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def key_of(request: HttpRequest) -> str:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise ApiProblem(
            400,
            f"This request needs an {HEADER} header (any unique string, e.g. a UUID).",
            kind="idempotency-key-missing",
        )
    if len(key) > MAX_KEY:
        raise ApiProblem(400, f"{HEADER} is at most {MAX_KEY} characters.", kind="invalid")
    return key


def _claim(*, user, key: str, digest: str) -> IdempotentRequest | None:
    """Insert the key's row (None when it was new); otherwise the existing row."""
    try:
        with transaction.atomic():
            IdempotentRequest.objects.create(user=user, key=key, request_hash=digest)
        return None
    except IntegrityError:
        return IdempotentRequest.objects.get(user=user, key=key)


def _take_over(row: IdempotentRequest) -> bool:
    """Claim a row whose request died, with a conditional UPDATE (one taker wins)."""
    now = timezone.now()
    return bool(
        IdempotentRequest.objects.filter(
            pk=row.pk, status=0, created_at__lt=now - STALE_AFTER
        ).update(created_at=now)
    )


def idempotent(
    request: HttpRequest,
    *,
    user,
    payload: Any,
    run: Callable[[], tuple[int, Any]],
    replay: Callable[[int, Any], tuple[int, Any]] | None = None,
) -> tuple[int, Any]:
    """Run ``run`` at most once per (user, key) and answer every repeat as the first.

    ``replay`` may refresh a stored answer (a transaction still being confirmed shows its
    current state; the status stays the stored one).
    """
    key = key_of(request)
    digest = request_hash(request, payload)
    row = _claim(user=user, key=key, digest=digest)
    if row is not None:
        if row.request_hash != digest:
            raise ApiProblem(
                422,
                f"This {HEADER} was used with a different request.",
                kind="idempotency-key-reused",
            )
        if row.status >= 400:
            raise ApiProblem.replay(row.body)
        if row.status:
            return replay(row.status, row.body) if replay else (row.status, row.body)
        if not _take_over(row):
            raise ApiProblem(
                409,
                f"A request with this {HEADER} is still running; retry in a moment.",
                kind="idempotency-key-in-use",
                headers={"Retry-After": "1"},
            )
    try:
        status, body = run()
    except ApiProblem as problem:
        if problem.status >= 500:
            IdempotentRequest.objects.filter(user=user, key=key, status=0).delete()
            raise
        status, body = problem.status, problem
    except BaseException:
        # Nothing final to replay: the next attempt runs again (the operation is idempotent).
        IdempotentRequest.objects.filter(user=user, key=key, status=0).delete()
        raise
    stored = body.as_body() if isinstance(body, ApiProblem) else body
    IdempotentRequest.objects.filter(user=user, key=key).update(
        status=status, body=json.loads(json.dumps(stored, default=str)), finished_at=timezone.now()
    )
    if isinstance(body, ApiProblem):
        raise body
    return status, body

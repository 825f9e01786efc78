"""/webhooks: a reseller's endpoints, their delivery log, and a test event."""

from datetime import datetime

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from billing.models import WebhookDelivery, WebhookEndpoint
from billing.services import webhooks

from .auth import actor, api_key, scope_required
from .pagination import KeysetPagination
from .problems import Problem
from .scope import reseller_of

router = Router(tags=["webhooks"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}


class EndpointIn(Schema):
    url: str = Field(min_length=8, max_length=500)
    events: list[str] = Field(min_length=1, max_length=5)
    description: str = Field("", max_length=100)


class EndpointOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    enabled: bool
    failing_since: datetime | None
    disabled_at: datetime | None
    created_at: datetime


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(description="The signing secret, shown only now.")


class DeliveryOut(Schema):
    id: int
    message_id: str
    event: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None


def endpoint_out(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "failing_since": endpoint.failing_since,
        "disabled_at": endpoint.disabled_at,
        "created_at": endpoint.created_at,
    }


def delivery_out(delivery: WebhookDelivery) -> dict:
    return {
        "id": delivery.pk,
        "message_id": delivery.message_id,
        "event": delivery.event,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "next_attempt_at": delivery.next_attempt_at,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
    }


def _own(request: HttpRequest, pk: int) -> WebhookEndpoint:
    reseller_of(request)
    endpoint = WebhookEndpoint.objects.filter(owner=api_key(request).user, pk=pk).first()
    if endpoint is None:
        raise Http404
    return endpoint


@router.get("", response={200: list[EndpointOut], **ERRORS}, summary="My endpoints")
def endpoints_list(request: HttpRequest):
    scope_required(request, "read")
    reseller_of(request)
    return [endpoint_out(e) for e in WebhookEndpoint.objects.filter(owner=api_key(request).user)]


@router.post("", response={201: EndpointCreatedOut, **ERRORS}, summary="Add an endpoint")
def endpoint_create(request: HttpRequest, payload: EndpointIn):
    scope_required(request, "accounts")
    reseller_of(request)
    endpoint = webhooks.endpoint_create(
        actor=actor(request),
        owner=api_key(request).user,
        url=payload.url,
        events=payload.events,
        description=payload.description,
    )
    return Status(201, {**endpoint_out(endpoint), "secret": endpoint.secret})


@router.delete("/{pk}", response={200: EndpointOut, **ERRORS}, summary="Remove")
def endpoint_delete(request: HttpRequest, pk: int):
    scope_required(request, "accounts")
    endpoint = _own(request, pk)
    body = endpoint_out(endpoint)
    webhooks.endpoint_delete(actor=actor(request), endpoint=endpoint)
    return body


@router.post("/{pk}/enable", response={200: EndpointOut, **ERRORS}, summary="Enable again")
def endpoint_enable(request: HttpRequest, pk: int):
    scope_required(request, "accounts")
    return endpoint_out(webhooks.endpoint_enable(actor=actor(request), endpoint=_own(request, pk)))


@router.post("/{pk}/test", response={200: DeliveryOut, **ERRORS}, summary="Send a test event")
def endpoint_test(request: HttpRequest, pk: int):
    scope_required(request, "accounts")
    return delivery_out(webhooks.test_event_send(endpoint=_own(request, pk)))


@router.get("/{pk}/deliveries", response={200: list[DeliveryOut], **ERRORS}, summary="Delivery log")
@paginate(KeysetPagination, descending=True, item=delivery_out)
def deliveries(request: HttpRequest, pk: int):
    scope_required(request, "read")
    return _own(request, pk).deliveries.all()

"""Webhook endpoints in the REST API (mounted, with auth and errors, by qrcards/api.py).

Read keys list endpoints and their deliveries; read-and-write keys change them and read their secrets.
Through the dashboard's session, only owners and admins (the `change_settings` ability) get anywhere:
editors may write trails, not decide where the workspace's data is sent.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import AfterValidator

from accounts.models import WebhookDelivery, WebhookEndpoint
from accounts.permissions import membership_for
from accounts.roles import can
from accounts.webhooks import check_room, check_url, clean_events, deliveries_for, redeliver, send_test_event
from qrcards.api_fields import Body, Id, storable_text

router = Router()

EventType = Literal["scan.created", "trail.published", "trail.updated", "stop.retired", "member.joined"]
Url = Annotated[str, Field(min_length=1, max_length=2000, examples=["https://example.com/hooks/qrcards"])]
Description = Annotated[str, Field(max_length=200), AfterValidator(storable_text)]


class EndpointCreate(Body):
    url: Annotated[Url, AfterValidator(storable_text)]
    events: list[EventType] = Field(min_length=1, max_length=10)
    description: Description = ""


class EndpointChange(Body):
    url: Annotated[Url, AfterValidator(storable_text)] | None = None
    events: list[EventType] | None = Field(None, min_length=1, max_length=10)
    description: Description | None = None
    enabled: bool | None = Field(None, description="true turns a disabled endpoint back on; false disables it.")


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    failing_since: datetime.datetime | None = Field(description="Every delivery has failed since; a day disables it.")
    disabled_at: datetime.datetime | None
    disabled_reason: str
    created_at: datetime.datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(description="whsec_…: the key of the signatures. Also at GET …/secret with a write key.")


class EndpointList(Schema):
    items: list[EndpointOut]


class SecretOut(Schema):
    secret: str


class AttemptOut(Schema):
    at: datetime.datetime
    status_code: int | None = Field(description="The endpoint's HTTP status; null when it gave none.")
    duration_ms: int
    response_excerpt: str = Field(description="The first 500 characters of its answer.")
    error: str = Field(description="Why there was no answer (a refused address, a timeout...).")


class DeliveryOut(Schema):
    id: int
    event_id: str = Field(description="The webhook-id header: the same on every retry and redelivery.")
    event_type: str
    state: Literal["pending", "succeeded", "failed"]
    attempts: int
    next_attempt_at: datetime.datetime | None
    created_at: datetime.datetime
    attempt_log: list[AttemptOut] = Field(description="Newest first.")


class DeliveryList(Schema):
    items: list[DeliveryOut]


class DeliveryQuery(Schema):
    limit: int = Field(50, ge=1, le=100)


def _for_managers(request: HttpRequest) -> None:
    """A key's scope decides for a program; through the dashboard's session, only owners and admins."""
    if getattr(request.auth, "key", None) is None:
        membership = membership_for(request)
        if membership is None or not can(membership.role, "change_settings"):
            raise PermissionDenied("Only owners and admins manage webhooks.")


def _get_endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    _for_managers(request)
    return get_object_or_404(WebhookEndpoint, pk=endpoint_id, customer_id=request.tenant.pk)


def _endpoint_out(endpoint: WebhookEndpoint) -> dict:
    return {
        **{name: getattr(endpoint, name) for name in EndpointOut.model_fields if name != "enabled"},
        "enabled": endpoint.is_active,
    }


def _delivery_out(delivery: WebhookDelivery) -> dict:
    return {
        "id": delivery.pk,
        "event_id": delivery.event.uid,
        "event_type": delivery.event.type,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at if delivery.state == WebhookDelivery.State.PENDING else None,
        "created_at": delivery.created_at,
        "attempt_log": list(delivery.attempt_log.all()),
    }


def _checked_url(url: str) -> str:
    try:
        check_url(url)
    except ValidationError as error:
        raise ValidationError({"url": error.messages}) from None
    return url


@router.get("", response=EndpointList, url_name="webhook-list", summary="List webhook endpoints")
def list_endpoints(request: HttpRequest) -> dict:
    _for_managers(request)
    endpoints = WebhookEndpoint.objects.filter(customer_id=request.tenant.pk).order_by("created_at", "pk")
    return {"items": [_endpoint_out(endpoint) for endpoint in endpoints]}


@router.post("", response={201: EndpointCreated}, url_name="webhook-create", summary="Add a webhook endpoint")
def create_endpoint(request: HttpRequest, payload: EndpointCreate) -> Status:
    """The answer carries the signing secret. A URL that isn't https, or names a host that isn't public, is a 422."""
    _for_managers(request)
    url = _checked_url(payload.url.strip())
    events = clean_events(list(payload.events))
    with transaction.atomic():
        check_room(request.tenant)
        endpoint = WebhookEndpoint.objects.create(
            customer_id=request.tenant.pk, url=url, events=events, description=payload.description
        )
    return Status(201, {**_endpoint_out(endpoint), "secret": endpoint.secret})


@router.get("/{endpoint_id}", response=EndpointOut, url_name="webhook-detail", summary="Get a webhook endpoint")
def get_endpoint(request: HttpRequest, endpoint_id: Id) -> dict:
    return _endpoint_out(_get_endpoint(request, endpoint_id))


@router.patch("/{endpoint_id}", response=EndpointOut, url_name="webhook-update", summary="Change a webhook endpoint")
def update_endpoint(request: HttpRequest, endpoint_id: Id, payload: EndpointChange) -> dict:
    endpoint = _get_endpoint(request, endpoint_id)
    if payload.url is not None:
        endpoint.url = _checked_url(payload.url.strip())
    if payload.events is not None:
        endpoint.events = clean_events(list(payload.events))
    if payload.description is not None:
        endpoint.description = payload.description
    endpoint.save(update_fields=["url", "events", "description"])
    if payload.enabled is True and not endpoint.is_active:
        endpoint.enable()
    elif payload.enabled is False and endpoint.is_active:
        endpoint.disable("Disabled through the API.")
    return _endpoint_out(endpoint)


@router.delete("/{endpoint_id}", response={204: None}, url_name="webhook-delete", summary="Remove a webhook endpoint")
def delete_endpoint(request: HttpRequest, endpoint_id: Id) -> Status:
    _get_endpoint(request, endpoint_id).delete()
    return Status(204, None)


@router.get("/{endpoint_id}/secret", response=SecretOut, url_name="webhook-secret", summary="Get the signing secret")
def get_secret(request: HttpRequest, endpoint_id: Id) -> dict:
    """Only with a read-and-write key (or an owner's or admin's session): a read key can't learn the secret."""
    endpoint = _get_endpoint(request, endpoint_id)
    if not request.auth.can_write:
        raise PermissionDenied("A read key can't see signing secrets.")
    return {"secret": endpoint.secret}


@router.get(
    "/{endpoint_id}/deliveries", response=DeliveryList, url_name="webhook-deliveries", summary="The delivery log"
)
def list_deliveries(request: HttpRequest, endpoint_id: Id, query: Query[DeliveryQuery]) -> dict:
    """The latest deliveries, newest first, each with its attempts."""
    endpoint = _get_endpoint(request, endpoint_id)
    return {"items": [_delivery_out(delivery) for delivery in deliveries_for(endpoint, limit=query.limit)]}


@router.post("/{endpoint_id}/test", response={202: DeliveryOut}, url_name="webhook-test", summary="Send a test event")
def test_endpoint(request: HttpRequest, endpoint_id: Id) -> Status:
    """Queues a `webhook.test` event for this endpoint; the worker sends it within seconds."""
    endpoint = _get_endpoint(request, endpoint_id)
    if not endpoint.is_active:
        raise ValidationError("Enable the endpoint first: nothing is sent to a disabled one.", code="disabled")
    return Status(202, _delivery_out(send_test_event(endpoint)))


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    response={202: DeliveryOut},
    url_name="webhook-redeliver",
    summary="Send a delivery's event again",
)
def redeliver_event(request: HttpRequest, endpoint_id: Id, delivery_id: Id) -> Status:
    """A new delivery of the same event (the same webhook-id), tried at once and then on the usual schedule."""
    endpoint = _get_endpoint(request, endpoint_id)
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("event"), pk=delivery_id, endpoint=endpoint)
    return Status(202, _delivery_out(redeliver(delivery)))

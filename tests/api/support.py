"""API test helpers: a key for a user, a client whose requests carry one."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client

from accounts.services.apikeys import api_key_create
from accounts.services.audit import Actor

ALL_SCOPES = ("read", "money", "accounts")


def key_for(user, *, scopes=ALL_SCOPES, **options) -> str:
    return api_key_create(
        actor=Actor(user=user), user=user, name="test", scopes=scopes, **options
    ).text


@dataclass
class ApiClient:
    client: Client
    key: str

    def _headers(self, headers):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.key}", **(headers or {})}

    def get(self, path, params=None, **headers):
        return self.client.get("/api/v1" + path, params or {}, **self._headers(headers))

    def post(self, path, body=None, **headers):
        return self.client.post(
            "/api/v1" + path, body or {}, content_type="application/json", **self._headers(headers)
        )

    def patch(self, path, body=None, **headers):
        return self.client.patch(
            "/api/v1" + path, body or {}, content_type="application/json", **self._headers(headers)
        )

    def put(self, path, body=None, **headers):
        return self.client.put(
            "/api/v1" + path, body or {}, content_type="application/json", **self._headers(headers)
        )

    def delete(self, path, **headers):
        return self.client.delete("/api/v1" + path, **self._headers(headers))

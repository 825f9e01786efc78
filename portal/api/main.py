"""The NinjaAPI: auth, throttles, problem details, and the routers by resource."""

from __future__ import annotations

from ninja import NinjaAPI

from . import customer_extras, customers, me, transactions, webhooks
from .auth import ApiKeyAuth
from .docs import LocalSwagger
from .problems import CONTENT_TYPE, ApiProblem, install, problem_response
from .throttle import KeyRateThrottle


class PortalApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Problems are documented as application/problem+json, as they are sent."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for methods in schema["paths"].values():
            for operation in methods.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[CONTENT_TYPE] = content.pop("application/json")
        return schema


api = PortalApi(
    title="VOS Portal API",
    version="1",
    description=(
        "Resellers' and customers' HTTP API. Authenticate with `Authorization: Bearer <key>` "
        "(keys: the profile page). Errors are RFC 9457 problem details. See docs/API.md."
    ),
    auth=ApiKeyAuth(),
    throttle=[KeyRateThrottle("API_RATE_BURST"), KeyRateThrottle("API_RATE_SUSTAINED")],
    urls_namespace="api",
    openapi_url="openapi.json",
    docs=LocalSwagger(),
    docs_url="docs/",
)
install(api)
api.add_router("v1/customers", customers.router)
api.add_router("v1/customers", customer_extras.router)
api.add_router("v1/", transactions.router)
api.add_router("v1/me", me.router)
api.add_router("v1/webhooks", webhooks.router)


def not_found(request, rest: str = ""):
    """Anything under /api/ that no route matches: a problem, never Django's HTML 404."""
    return problem_response(api, request, ApiProblem(404, "No such resource."))

from __future__ import annotations

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, "8.8.8.8", "10.0.0.9"),  # nobody trusted: a forged header changes nothing
        (1, "8.8.8.8", "8.8.8.8"),
        (1, "1.1.1.1, 8.8.8.8", "8.8.8.8"),  # the client may prepend anything
        (2, "1.1.1.1, 8.8.8.8, 172.16.0.2", "8.8.8.8"),
        (2, "8.8.8.8", "10.0.0.9"),  # fewer hops than proxies: not believed
    ],
)
def test_the_client_address_believes_only_trusted_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.9")
    # django-axes (login throttle) and the portal's own code see the same address.
    assert get_client_ip_address(request) == expected

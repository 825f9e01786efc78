"""The reference page: a logged-in page through the same middleware, session, auth and base
template as the portal's pages, with no query or work of its own."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import engines

_TEMPLATE = engines["django"].from_string(
    '{% extends "base.html" %}{% block title %}Reference{% endblock %}'
    '{% block content %}<div class="card"><p>A static page.</p></div>{% endblock %}'
)


@login_required
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_TEMPLATE.render({}, request))

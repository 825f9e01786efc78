from __future__ import annotations

from django.conf import settings


def portal(request):
    """Values every page needs: the portal name, currency, and the user's role."""
    profile = getattr(request.user, "profile", None) if request.user.is_authenticated else None
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        "PORTAL_CURRENCY": settings.PORTAL_CURRENCY,
        "user_role": profile.role if profile else ("staff" if request.user.is_staff else None),
    }

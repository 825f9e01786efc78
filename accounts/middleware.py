from __future__ import annotations

import zoneinfo

from django.utils import timezone


class UserTimezoneMiddleware:
    """Render times in the logged-in user's own time zone (Profile.time_zone)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "profile", None)
            if profile is not None and profile.time_zone:
                try:
                    tz = zoneinfo.ZoneInfo(profile.time_zone)
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    tz = None
        if tz is not None:
            timezone.activate(tz)
        else:
            timezone.deactivate()
        return self.get_response(request)

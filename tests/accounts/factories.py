"""Portal users mapped to VOS accounts (servers and accounts come from tests.telephony).

`CustomerFactory()` is a user with a customer Profile on a fresh VosAccount; pass
`vos_account=` to map it to an existing one (e.g. a mirror of the emulator's "1001"), or
`profile__vos_account=` via the Profile factory directly. The password of every user built
here is `PASSWORD` unless `password=` is given.
"""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from accounts.models import Invitation, Profile, Role
from tests.telephony.factories import VosAccountFactory, VosServerFactory  # noqa: F401

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):  # noqa: N805
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    role = Role.CUSTOMER
    vos_account = factory.SubFactory(VosAccountFactory)


class CustomerFactory(UserFactory):
    """A customer login; `vos_account=` maps it (default: a new VosAccount)."""

    class Params:
        vos_account = factory.SubFactory(VosAccountFactory)

    profile = factory.RelatedFactory(
        ProfileFactory,
        factory_related_name="user",
        role=Role.CUSTOMER,
        vos_account=factory.SelfAttribute("..vos_account"),
    )


class ResellerFactory(UserFactory):
    """A reseller login on its agent account; `vos_account=` maps it (default: a new one)."""

    class Params:
        vos_account = factory.SubFactory(
            VosAccountFactory, account=factory.Sequence(lambda n: f"agent{n:03d}")
        )

    profile = factory.RelatedFactory(
        ProfileFactory,
        factory_related_name="user",
        role=Role.RESELLER,
        vos_account=factory.SelfAttribute("..vos_account"),
    )


class StaffFactory(UserFactory):
    is_staff = True

    profile = factory.RelatedFactory(
        ProfileFactory, factory_related_name="user", role=Role.STAFF, vos_account=None
    )


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.CUSTOMER
    vos_account = factory.SubFactory(VosAccountFactory)

"""factory-boy factory of synthetic persons with realistic en_US data (Faker)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import factory
import factory.random

from .persons import Person, assemble


def birth_date_for(age: int) -> date:
    """A birth date making the person ``age`` today, drawn from factory-boy's seeded random."""
    today = date.today()
    try:
        latest = today.replace(year=today.year - age)
    except ValueError:  # 29 February today, no such day in that year
        latest = today.replace(year=today.year - age, day=28)
    return latest - timedelta(days=factory.random.randgen.randint(0, 364))


class PersonFactory(factory.Factory[Person]):
    """``PersonFactory()`` is a person; ``PersonFactory(age=12)`` a child of twelve.

    Any part can be overridden (``given``, ``family``, ``domain``, ``plus_tag``,
    ``birth_date`` ...); the canaries, phone and card are always fresh.
    """

    class Meta:
        model = assemble

    class Params:
        age: Any = None

    given = factory.Faker("first_name")
    family = factory.Faker("last_name")
    domain = factory.Faker("safe_domain_name")
    building = factory.Faker("building_number")
    street_suffix = factory.Faker("street_suffix")
    secondary = ""
    city = factory.Faker("city")
    state = factory.Faker("state_abbr")
    postal_code = factory.Faker("zipcode")
    company = factory.Faker("company")
    job = factory.Faker("job")
    birth_date = factory.Maybe(
        factory.LazyAttribute(lambda o: o.age is not None),
        yes_declaration=factory.LazyAttribute(lambda o: birth_date_for(o.age)),
        no_declaration=factory.Faker("date_of_birth", minimum_age=18, maximum_age=90),
    )
    plus_tag = None

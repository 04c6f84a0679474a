"""One adapter contract: the methods and settings are defined once, in code, and the
README and every message are read from there or held equal to it."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import fields, replace
from itertools import takewhile
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args, get_origin, get_type_hints

import pytest

from pytest_stexcel_privacy import PrivacyAdapter, Retention
from pytest_stexcel_privacy.contract.adapter import CAPABILITIES, Capability, implements
from pytest_stexcel_privacy.contract.profile import AdapterProfile
from pytest_stexcel_privacy.errors import AdapterContractError
from pytest_stexcel_privacy.harness.holder import PrivacyHarness
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.settings import PrivacySettings
from toy_adapter import ToyAdapter

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def readme_table(heading: str) -> list[list[str]]:
    """The cells of the first table under ``heading``, its header rows left out."""
    lines = README.split(f"\n{heading}\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = takewhile(lambda line: line.startswith("|"), lines[start:])
    table = [re.split(r"(?<!\\)\|", row)[1:-1] for row in rows]
    return [[cell.strip().replace("\\|", "|") for cell in row] for row in table[2:]]


def untick(text: str) -> str:
    return text.replace("`", "")


def test_capabilities_are_read_from_the_adapter_class() -> None:
    assert CAPABILITIES["delete"] == Capability(
        "delete",
        "delete(account) -> None",
        True,
        'carry out a verified "delete my data" request end to end',
    )
    purchase = CAPABILITIES["purchase"]
    assert (purchase.signature, purchase.required) == ("purchase(account, card) -> None", False)
    assert CAPABILITIES["register"].signature == "register(person) -> Account"


def test_every_public_adapter_method_is_a_capability() -> None:
    methods = {
        name
        for name, member in vars(PrivacyAdapter).items()
        if callable(member) and not name.startswith("_")
    }
    # A hook the suite calls around the capabilities, never one a check needs (README:
    # "Django", on ORMs with thread-bound transactions).
    hooks = {"release_thread"}
    assert methods == set(CAPABILITIES) | hooks
    assert not hooks & set(CAPABILITIES)


def test_a_method_without_docstring_cannot_join_the_contract() -> None:
    def undocumented(self: object) -> None:
        raise NotImplementedError

    undocumented.__privacy_placeholder__ = "optional"  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="undocumented must say what it does"):
        Capability.of(undocumented)


def test_implements_tells_an_override_from_the_placeholder() -> None:
    class Partial(PrivacyAdapter):
        def delete(self, account: Any) -> None:
            pass

    class DuckTyped:
        def delete(self, account: Any) -> None:
            pass

    assert implements(Partial(), "delete")
    assert not implements(Partial(), "register")
    assert implements(DuckTyped(), "delete")
    assert not implements(DuckTyped(), "register")


def test_readme_method_table_is_the_contract() -> None:
    documented = {}
    for method, meaning in readme_table("### The adapter methods"):
        marked = re.fullmatch(r"`(.+)`( \*\(optional\)\*)?", method)
        assert marked, f"not a method: {method}"
        signature, optional = marked.groups()
        documented[signature.split("(")[0]] = (signature, optional is None, untick(meaning))
    assert set(documented) == set(CAPABILITIES)
    for name, capability in CAPABILITIES.items():
        signature, required, meaning = documented[name]
        assert (signature, required) == (capability.signature, capability.required), name
        assert meaning.startswith(untick(capability.meaning)), name


def test_readme_settings_table_is_the_profile() -> None:
    rows = {untick(row[0]): row for row in readme_table("### Adapter settings")}
    assert list(rows) == [f.name for f in fields(AdapterProfile)]
    hints = get_type_hints(AdapterProfile)
    for field in fields(AdapterProfile):
        _, kind, default, meaning = rows[field.name]
        assert ast.literal_eval(untick(default)) == field.default, field.name
        if get_origin(hints[field.name]) is Literal:
            assert kind == " or ".join(f'`"{value}"`' for value in get_args(hints[field.name]))
        assert meaning, field.name


def test_settings_default_to_the_profile_even_on_an_object_that_is_no_adapter() -> None:
    assert AdapterProfile.of(object()) == AdapterProfile()
    assert AdapterProfile.of(PrivacyAdapter()) == AdapterProfile()


def test_declared_settings_are_read_typed() -> None:
    class Shop(PrivacyAdapter):
        time_zone = "America/Los_Angeles"
        leap_day_birthday = "february-28"
        underage_handling = "block"
        marketing_by_default = False
        mail_category_header = "X-Kind"
        history_kinds = ("order", "note")
        birth_date_required = True

    assert AdapterProfile.of(Shop()) == AdapterProfile(
        "America/Los_Angeles", "february-28", "block", False, "X-Kind", ("order", "note"), True
    )


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("time_zone", "Mars/Olympus_Mons", "is not an IANA time zone such as"),
        ("time_zone", 5, "is not an IANA time zone"),
        ("leap_day_birthday", "feb-28", "it must be one of ('march-1', 'february-28')"),
        ("underage_handling", "ignore", "it must be 'delete' (the account"),
        ("marketing_by_default", "no", "it must be True (new accounts"),
        ("marketing_by_default", 1, "it must be True"),
        ("mail_category_header", "", "it must name the header that marks marketing mail"),
        ("history_kinds", "order", "must be a sequence of strings, got 'order'"),
        ("history_kinds", ("order", 3), "must be a sequence of strings"),
        ("birth_date_required", "yes", "it must be True (sign-up needs a birth date"),
        ("birth_date_required", 1, "it must be True"),
        ("opt_out_survives_deletion", "yes", "it must be True (an opt-out holds for a deleted"),
        ("opt_out_survives_deletion", 1, "it must be True"),
        ("require_list_unsubscribe_headers", "no", "it must be True (marketing must carry"),
        ("require_service_mail_after_opt_out", 0, "it must be True (service mail must still"),
        ("extra_fields", ["tax_id"], "it must map each field name to a shape"),
        ("extra_fields", {"tax id": "identifier"}, "is not a field name"),
        ("extra_fields", {"email": "identifier"}, "is one of the policy's own fields"),
        ("extra_fields", {"vat": "passport"}, "it must be one of ('identifier', 'digits'"),
    ],
)
def test_a_bad_setting_names_the_attribute_and_what_it_may_be(
    attribute: str, value: object, message: str
) -> None:
    adapter = type("Shop", (PrivacyAdapter,), {attribute: value})()
    with pytest.raises(AdapterContractError) as error:
        AdapterProfile.of(adapter)
    assert str(error.value).startswith(f"Shop.{attribute}")
    assert message in str(error.value)


def test_extra_fields_are_read_as_sorted_pairs_and_minted_for_every_check(
    tmp_path: Path,
) -> None:
    class Shop(ToyAdapter):
        extra_fields: ClassVar[Mapping[str, str]] = {"vat": "identifier", "iban": "iban"}

    shop = Shop(tmp_path)
    assert AdapterProfile.of(shop).extra_fields == (("iban", "iban"), ("vat", "identifier"))
    harness = PrivacyHarness.open(shop, None, None, PrivacySettings(), "t", "deletion", ())
    try:
        assert set(assemble(given="Ann", family="Lee").extra) == {"iban", "vat"}
    finally:
        harness.close()
    assert assemble(given="Ann", family="Lee").extra == {}


STRICTER = ("opt_out_survives_deletion", "require_list_unsubscribe_headers")
STRICTER += ("require_service_mail_after_opt_out",)


def test_rules_stricter_than_the_policy_are_off_by_default() -> None:
    profile = AdapterProfile.of(PrivacyAdapter())
    assert [getattr(profile, name) for name in STRICTER] == [False, False, False]
    strict = type("Shop", (PrivacyAdapter,), dict.fromkeys(STRICTER, True))()
    assert [getattr(AdapterProfile.of(strict), name) for name in STRICTER] == [True] * 3
    listed = [untick(row[0]) for row in readme_table("### Stricter rules (off by default)")]
    assert listed == list(STRICTER)


def suppressing(retentions: list[Retention]) -> Any:
    class Suppressing(ToyAdapter):
        opt_out_survives_deletion = True

        def retentions(self) -> list[Retention]:
            return retentions

    return Suppressing


EMAIL_KEPT = Retention(
    exception="legal-obligation",
    store="toy-db",
    locations=("suppressions.email",),
    fields=("email",),
    reason="an opt-out outlives deletion",
)


def test_an_opt_out_surviving_deletion_needs_a_declared_email_retention(tmp_path: Path) -> None:
    """Keeping the address after deletion is residue unless declared: error at setup."""
    adapter = suppressing([replace(EMAIL_KEPT, fields=("first_name",))])(tmp_path)
    settings = PrivacySettings()
    with pytest.raises(AdapterContractError) as error:
        PrivacyHarness.open(adapter, None, None, settings, "t", "deletion", ("register", "delete"))
    message = str(error.value)
    assert message.startswith("Suppressing.opt_out_survives_deletion = True")
    assert "no Retention whose fields include 'email'" in message
    # a check that deletes nobody does not depend on it
    PrivacyHarness.open(adapter, None, None, settings, "t", "children", ("register",)).close()
    (tmp_path / "ok").mkdir()
    declared = suppressing([EMAIL_KEPT])(tmp_path / "ok")
    PrivacyHarness.open(declared, None, None, settings, "t", "deletion", ("delete",)).close()

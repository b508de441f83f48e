"""Parsing ``DYNASTORE_API_KEYS`` with catalog scopes and names, and scoped principals (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from dynastore.config import ApiKey, Settings, parse_api_key_specs
from dynastore.errors import Forbidden
from dynastore.services.auth import Authenticator


def test_a_key_without_scope_holds_its_role_in_every_catalog() -> None:
    assert parse_api_key_specs("k1:editor") == (ApiKey("k1", "editor", None, None),)


def test_a_scoped_key_names_its_catalogs_separated_by_bars() -> None:
    (spec,) = parse_api_key_specs("k1:editor@catA|cat-b.2")
    assert spec.catalogs == frozenset({"catA", "cat-b.2"}) and spec.role == "editor"


def test_a_name_follows_the_role_or_the_scope() -> None:
    specs = parse_api_key_specs("k1:reader#viewer, k2:admin@a|b#ci-bot")
    assert [(s.key, s.name, s.catalogs) for s in specs] == [
        ("k1", "viewer", None),
        ("k2", "ci-bot", frozenset({"a", "b"})),
    ]


def test_the_key_is_everything_before_the_last_colon() -> None:
    (spec,) = parse_api_key_specs("a:b@c#d:admin")
    assert spec.key == "a:b@c#d" and spec.role == "admin" and spec.catalogs is None


@pytest.mark.parametrize(
    "value",
    [
        "k1:editor@A,B",  # commas separate keys: `B` is no entry (the issue's form is rejected, not misread)
        "k1:editor@",  # empty scope
        "k1:editor@a||b",  # empty catalog id
        "k1:editor@a b",  # not a catalog id
        "k1:editor@-a",
        "k1:owner",  # unknown role
        "k1",  # no role
        ":reader",  # no key
        "k1:reader#",  # empty name
        "k1:reader#key-x",  # reserved name
        "k1:reader#anonymous",
        "k1:reader,k1:admin",  # the same key twice
        "k1:reader#n,k2:admin#n",  # the same name twice
    ],
)
def test_ambiguous_or_malformed_entries_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="DYNASTORE_API_KEYS entry"):
        parse_api_key_specs(value)
    with pytest.raises(ValidationError):
        Settings(api_keys=value)


def test_the_issue_form_with_commas_points_at_the_bar_separator() -> None:
    with pytest.raises(ValueError, match=r"separated by `\|`"):
        parse_api_key_specs("k1:editor@A,B")


def test_a_refused_entry_does_not_echo_the_key() -> None:
    with pytest.raises(ValueError) as caught:
        parse_api_key_specs("super-secret-value:owner")
    assert "super-secret-value" not in str(caught.value)


def test_a_scoped_principal_may_act_only_in_its_catalogs() -> None:
    auth = Authenticator.from_settings(Settings(api_keys="k:editor@a|b", audit_salt=SecretStr("s")))
    principal = auth.authenticate("k")
    assert principal is not None and principal.catalogs == frozenset({"a", "b"})
    assert auth.authorize_in(principal, "editor", "a") is principal
    with pytest.raises(Forbidden, match="'c'"):
        auth.authorize_in(principal, "reader", "c")
    assert principal.visible(["c", "b", "a"]) == ("b", "a")
    with pytest.raises(Forbidden):
        principal.require_catalogs(["a", "z"])


def test_the_audit_actor_of_an_unnamed_key_depends_on_the_deployment_secret() -> None:
    first = Authenticator.from_settings(Settings(api_keys="k:reader", audit_salt=SecretStr("one"))).authenticate("k")
    second = Authenticator.from_settings(Settings(api_keys="k:reader", audit_salt=SecretStr("two"))).authenticate("k")
    assert first is not None and second is not None and first.key_id != second.key_id


def test_the_local_backend_keeps_its_audit_secret_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_keys="k:reader")
    first = Authenticator.from_settings(settings).authenticate("k")
    again = Authenticator.from_settings(settings).authenticate("k")
    assert first == again
    assert (tmp_path / "audit-salt").stat().st_mode & 0o077 == 0

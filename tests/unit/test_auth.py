"""API keys, roles and the dev key file (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from dynastore.config import Settings
from dynastore.errors import Forbidden, Unauthorized
from dynastore.services.auth import ANONYMOUS_READER, Authenticator, Principal, ensure_dev_key, key_id


def make_auth(public_read: bool = False) -> Authenticator:
    return Authenticator.from_settings(
        Settings(
            api_keys="r-key:reader,e-key:editor,a-key:admin", public_read=public_read, audit_salt=SecretStr("test-salt")
        )
    )


def test_bearer_and_x_api_key_headers_both_carry_the_key() -> None:
    # GIVEN both header styles WHEN the credential is extracted THEN the key comes back
    assert Authenticator.credential("Bearer abc", None) == "abc"
    assert Authenticator.credential("bearer   abc ", None) == "abc"
    assert Authenticator.credential(None, "xyz") == "xyz"
    assert Authenticator.credential(None, None) is None


def test_a_non_bearer_authorization_header_is_unauthorized() -> None:
    with pytest.raises(Unauthorized, match="Bearer"):
        Authenticator.credential("Basic dXNlcjpwYXNz", None)


def test_roles_rank_reader_below_editor_below_admin() -> None:
    # GIVEN keys of each role
    auth = make_auth()
    reader, editor, admin = (auth.authenticate(k) for k in ("r-key", "e-key", "a-key"))
    # WHEN/THEN each may do what its rank allows and no more
    assert auth.authorize(reader, "reader") == reader
    with pytest.raises(Forbidden, match="editor"):
        auth.authorize(reader, "editor")
    assert auth.authorize(editor, "editor") == editor
    with pytest.raises(Forbidden, match="admin"):
        auth.authorize(editor, "admin")
    assert auth.authorize(admin, "admin") == admin


def test_the_principal_names_the_key_without_revealing_it() -> None:
    principal = make_auth().authenticate("a-key")
    assert principal == Principal(key_id("a-key", b"test-salt"), "admin")
    assert "a-key" not in principal.key_id


def test_an_unknown_key_is_unauthorized_even_for_public_reads() -> None:
    with pytest.raises(Unauthorized, match="unknown"):
        make_auth(public_read=True).authenticate("nope")


def test_public_read_lets_anonymous_callers_read_but_not_write() -> None:
    auth = make_auth(public_read=True)
    assert auth.authorize(None, "reader") == ANONYMOUS_READER
    with pytest.raises(Unauthorized):
        auth.authorize(None, "editor")


def test_without_public_read_anonymous_callers_are_unauthorized() -> None:
    with pytest.raises(Unauthorized, match="API key"):
        make_auth().authorize(None, "reader")


def test_extra_verifiers_can_vouch_for_other_credentials() -> None:
    # GIVEN a verifier that knows an ID token
    auth = make_auth()
    auth.verifiers.append(lambda token: Principal("sa@example", "editor") if token == "id-token" else None)
    # THEN that token authenticates and others stay unknown
    assert auth.authenticate("id-token") == Principal("sa@example", "editor")
    with pytest.raises(Unauthorized):
        auth.authenticate("other")


def test_dev_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    # GIVEN no configured keys
    settings = Settings(data_dir=tmp_path, api_keys="")
    # WHEN the dev server starts twice
    first_settings, first = ensure_dev_key(settings)
    _, second = ensure_dev_key(settings)
    # THEN the same admin key is stored in <data_dir>/api-key and used
    assert first and first == second
    assert (tmp_path / "api-key").read_text().strip() == first
    assert first_settings.keys() == {first: "admin"}
    assert (tmp_path / "api-key").stat().st_mode & 0o077 == 0


def test_configured_keys_win_over_the_dev_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_keys="k:editor")
    same, key = ensure_dev_key(settings)
    assert key is None and same.keys() == {"k": "editor"}
    assert not (tmp_path / "api-key").exists()

"""The tool's keys: encrypted at rest, published at jwks_url, rotated with the old key still
published for a while; and the URLs given to a platform."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.lti import keys
from api.lti.service import get_platform
from api.models import LtiKey, Role
from api.users.service import create_user
from cli.app import app as cli

from factories import auth, unique
from lti_platform import KEK, TOOL


def test_private_keys_are_stored_encrypted_and_need_the_key_encryption_key(engine) -> None:
    with Session(engine) as db, db.begin():
        kid = keys.add_key(db, kek=KEK)
        row = db.get(LtiKey, kid)
        assert "PRIVATE KEY" not in row.private_encrypted and "PUBLIC KEY" in row.public_pem
        assert keys.signing_key(db, kek=KEK).kid == kid
        with pytest.raises(keys.KeysUnavailable):
            keys.signing_key(db, kek=keys.new_kek())
        with pytest.raises(keys.KeysUnavailable):
            keys.signing_key(db, kek=None)


def test_rotation_signs_with_the_new_key_and_keeps_the_old_one_published_for_a_while(engine, browser) -> None:
    with Session(engine) as db, db.begin():
        old = keys.add_key(db, kek=KEK)
        new = keys.add_key(db, kek=KEK)
        signing = keys.signing_key(db, kek=KEK)
        token = keys.sign(signing, {"iss": "tool"})
    assert signing.kid == new
    published = browser.get("/lti/jwks").json()["keys"]
    assert {old, new} <= {k["kid"] for k in published}
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and "d" not in k for k in published)
    # the JWT verifies against the published key named in its header
    (key,) = [k for k in published if k["kid"] == jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(key)), algorithms=["RS256"])
    assert claims["iss"] == "tool" and len(claims["jti"]) == 32
    assert keys.sign(signing, {}) != token  # a fresh jti every time
    with Session(engine) as db:
        later = keys.published(db, now=datetime.now(UTC) + keys.GRACE + timedelta(minutes=1))
    assert old not in {k["kid"] for k in later["keys"]} and new in {k["kid"] for k in later["keys"]}


def test_grader_lti_register_prints_the_tool_urls(database_url, engine) -> None:
    issuer = f"https://{unique('canvas')}.example.edu"
    arguments = ["lti", "register", "--name", "Canvas", "--issuer", issuer, "--client-id", "1000042"]
    arguments += ["--auth-url", issuer + "/auth", "--token-url", issuer + "/token", "--jwks-url", issuer + "/jwks"]
    arguments += ["--deployment", "d1", "--deployment", "d2", "--json"]
    env = {"DATABASE_URL": database_url, "GRADER_LTI_KEY": KEK, "GRADER_PUBLIC_URL": "https://grader.example.edu"}
    result = CliRunner().invoke(cli, arguments, env=env)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) == {"id", "login_url", "launch_url", "jwks_url", "config_url"}
    assert printed["login_url"] == "https://grader.example.edu/lti/login"
    assert printed["launch_url"] == "https://grader.example.edu/lti/launch"
    assert printed["jwks_url"] == "https://grader.example.edu/lti/jwks"
    again = CliRunner().invoke(cli, arguments, env=env)
    assert again.exit_code == 1 and "registered already" in again.output
    # a new key needs the key-encryption key
    no_kek = CliRunner().invoke(cli, ["lti", "rotate-key"], env={**env, "GRADER_LTI_KEY": ""})
    assert no_kek.exit_code == 1 and "GRADER_LTI_KEY" in no_kek.output
    rotated = CliRunner().invoke(cli, ["lti", "rotate-key"], env=env)
    assert rotated.exit_code == 0 and "new signing key" in rotated.stdout
    with Session(engine) as db:
        platform = get_platform(db, printed["id"])
    assert platform is not None and platform.deployments == {"d1", "d2"}


def test_admins_register_platforms_over_rest_and_others_may_not(client, engine, browser) -> None:
    with Session(engine) as db, db.begin():
        admin = create_user(db, name="Admin", role=Role.ADMIN, user_id=unique("admin")).token or ""
        teacher = create_user(db, name="Prof", role=Role.INSTRUCTOR, user_id=unique("i")).token or ""
    issuer = f"https://{unique('moodle')}.example.edu"
    body = {
        "name": "Moodle",
        "issuer": issuer,
        "client_id": "abc",
        "auth_url": issuer + "/mod/lti/auth.php",
        "token_url": issuer + "/mod/lti/token.php",
        "jwks_url": issuer + "/mod/lti/certs.php",
        "deployments": ["3"],
    }
    assert client.post("/api/v1/lti/platforms", json=body, headers=auth(teacher)).status_code == 403
    created = client.post("/api/v1/lti/platforms", json=body, headers=auth(admin))
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["login_url"] == TOOL + "/lti/login" and out["deployments"] == ["3"]
    assert client.post("/api/v1/lti/platforms", json=body, headers=auth(admin)).status_code == 409
    listed = client.get("/api/v1/lti/platforms", headers=auth(admin)).json()
    assert out["id"] in {p["id"] for p in listed}
    bad = client.post("/api/v1/lti/platforms", json={**body, "auth_url": "javascript:alert(1)"}, headers=auth(admin))
    assert bad.status_code == 422
    config = browser.get(out["config_url"].removeprefix(TOOL))
    assert config.status_code == 200
    canvas = config.json()
    assert canvas["oidc_initiation_url"] == out["login_url"] and canvas["target_link_uri"] == out["launch_url"]
    assert canvas["public_jwk_url"] == TOOL + "/lti/jwks"
    assert {p["message_type"] for p in canvas["extensions"][0]["settings"]["placements"]} == {
        "LtiDeepLinkingRequest",
        "LtiResourceLinkRequest",
    }
    assert browser.get("/lti/platforms/nope/config").status_code == 404


def test_only_lti_pages_may_be_framed(browser) -> None:
    assert browser.get("/").headers["x-frame-options"] == "DENY"
    page = browser.get("/lti/login", params={"iss": "x"})  # an LTI page refusing
    assert page.status_code == 400 and "x-frame-options" not in page.headers
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]  # unless it names its platform

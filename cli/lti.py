"""``grader lti``: learning platforms (LTI 1.3) registered by an admin, and the tool's keys.

``DATABASE_URL`` as for ``serve``; ``GRADER_LTI_KEY`` encrypts the tool's private keys (``grader lti
new-kek`` prints one); ``GRADER_PUBLIC_URL`` (or ``--base-url``) is the address platforms reach.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cli.service import _account_change, _settings, _valid, console

lti_app = typer.Typer(help="LMS platforms (LTI 1.3) and the tool's keys.", no_args_is_help=True)

DEFAULT_BASE = "http://127.0.0.1:8000"


@lti_app.command("register")
def register(
    name: Annotated[str, typer.Option("--name", help="A name for the platform (e.g. the university's Canvas).")],
    issuer: Annotated[
        str, typer.Option("--issuer", help="The platform's issuer (iss), e.g. https://canvas.instructure.com")
    ],
    client_id: Annotated[str, typer.Option("--client-id", help="The client id the platform gave the tool.")],
    auth_url: Annotated[str, typer.Option("--auth-url", help="The platform's OIDC authorization URL.")],
    token_url: Annotated[str, typer.Option("--token-url", help="The platform's OAuth2 token URL.")],
    jwks_url: Annotated[str, typer.Option("--jwks-url", help="The platform's key set URL.")],
    deployment: Annotated[list[str], typer.Option("--deployment", help="A deployment id (repeat for several).")],
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="The service's public address (default: GRADER_PUBLIC_URL).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"id", "login_url", "launch_url", "jwks_url", "config_url"}.')
    ] = False,
) -> None:
    """Register an LMS platform and print the tool's URLs to give it. Makes the tool's first
    signing key if it has none (GRADER_LTI_KEY must be set)."""
    from api.lti import keys, service
    from api.lti.schemas import PlatformIn
    from api.lti.urls import tool_urls

    body = _valid(
        PlatformIn,
        dict(  # type: ignore[arg-type]  # _valid validates any value against the model
            name=name,
            issuer=issuer,
            client_id=client_id,
            auth_url=auth_url,
            token_url=token_url,
            jwks_url=jwks_url,
            deployments=deployment,
        ),
    )
    settings = _settings()

    def change(session: Any) -> Any:
        keys.ensure_key(session, kek=settings.lti_key)
        return service.register_platform(session, **body.model_dump())

    platform = _account_change(change)
    urls = tool_urls(base_url or settings.public_url or DEFAULT_BASE, platform.id)
    if as_json:
        print(json.dumps(urls))
    else:
        print(f"registered {platform.name} ({platform.issuer}) as {platform.id}")
        for key, value in urls.items():
            if key != "id":
                print(f"{key}: {value}")


@lti_app.command("registration-url")
def registration_url(
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="The service's public address (default: GRADER_PUBLIC_URL).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"url", "expires_at"}.')] = False,
) -> None:
    """Print a one-time URL for LTI Dynamic Registration: paste it into the LMS (Moodle 3.10+,
    Canvas), which registers itself with it once, within the hour. Makes the tool's first signing
    key if it has none (GRADER_LTI_KEY must be set)."""
    from api.lti import keys, registration

    settings = _settings()

    def change(session: Any) -> Any:
        keys.ensure_key(session, kek=settings.lti_key)
        keys.signing_key(session, kek=settings.lti_key)  # the key opens: the platform will need it
        return registration.make_url(session, created_by=None)

    made = _account_change(change)
    url = made.url(base_url or settings.public_url or DEFAULT_BASE)
    if as_json:
        print(json.dumps({"url": url, "expires_at": made.expires_at.isoformat()}))
    else:
        print(url)
        console.print(f"Works once, until {made.expires_at:%Y-%m-%d %H:%M} UTC.", highlight=False)


@lti_app.command("rotate-key")
def rotate_key() -> None:
    """Make a new signing key; the old ones stay published at jwks_url for a week."""
    from api.lti import keys

    settings = _settings()
    kid = _account_change(lambda session: keys.add_key(session, kek=settings.lti_key))
    print(f"new signing key {kid}")


@lti_app.command("new-kek")
def new_kek() -> None:
    """Print a fresh key-encryption key for GRADER_LTI_KEY (keep it secret, and keep it: the tool's
    keys cannot be read without it)."""
    from api.lti.keys import new_kek as make

    print(make())
    console.print("Set it as GRADER_LTI_KEY for grader serve and grader lti.", highlight=False)

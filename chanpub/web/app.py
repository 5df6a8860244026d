"""The web application factory: one Starlette app, each feature a mount of its own.

Starlette (BSD-3-Clause) for routing and uvicorn (BSD-3-Clause) to serve it; both are
imported only here, so the CLI starts without them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from chanpub.errors import ConfigError
from chanpub.i18n import _

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from chanpub.config import Config
    from chanpub.web.pages import Pages

VERIFY_TOKEN_VARIABLE = "WHATSAPP_VERIFY_TOKEN"  # the token typed into Meta's webhook setup
APP_SECRET_VARIABLE = "WHATSAPP_APP_SECRET"  # the Meta app's secret: signs every POST


def create_app(
    config: Config, *, environ: Mapping[str, str] | None = None, pages: Pages | None = None
) -> Starlette:
    """The app for `config`: /webhooks/whatsapp when the config has a whatsapp channel;
    the phone approval pages at / when `pages` is given (`chanpub approvals serve`).

    Secrets come from `environ` (default: the process environment), then the config's
    .env; a whatsapp channel without them is a ConfigError naming the variable."""
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute, Mount

    from chanpub.web.whatsapp import whatsapp_routes

    routes: list[BaseRoute] = []
    if any(channel.type == "whatsapp" for channel in config.channels.values()):
        values = _variables(config, environ, (VERIFY_TOKEN_VARIABLE, APP_SECRET_VARIABLE))
        routes.append(
            Mount(
                "/webhooks/whatsapp",
                routes=whatsapp_routes(
                    config,
                    verify_token=values[VERIFY_TOKEN_VARIABLE],
                    app_secret=values[APP_SECRET_VARIABLE],
                ),
            )
        )
    if pages is not None:
        from chanpub.web.pages import approval_routes

        routes.extend(approval_routes(pages))
    return Starlette(routes=routes)


def _variables(
    config: Config, environ: Mapping[str, str] | None, names: tuple[str, ...]
) -> dict[str, str]:
    """Each variable from the environment, else from the .env beside channels.yaml."""
    from dotenv import dotenv_values

    source = os.environ if environ is None else environ
    dotenv = config.path.parent / ".env"
    fallback = dotenv_values(dotenv) if dotenv.is_file() else {}
    values = {name: source.get(name) or fallback.get(name) or "" for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConfigError(
            [
                _(
                    "{path}: the WhatsApp webhook needs ${variable}: set it (environment or "
                    ".env) to the value given to Meta"
                ).format(path=config.path, variable=name)
                for name in missing
            ]
        )
    return values

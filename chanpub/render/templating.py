"""User templates (post text in channels.yaml) and built-in page templates, sandboxed."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chanpub.errors import ConfigError
from chanpub.i18n import _

if TYPE_CHECKING:
    from jinja2 import Environment, Template


@lru_cache(maxsize=4)
def environment(autoescape: bool, trim: bool = True) -> Environment:
    """A sandboxed Jinja environment: user templates cannot reach Python internals, and a
    field that does not exist is an error rather than an empty string."""
    from jinja2 import PackageLoader, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        loader=PackageLoader("chanpub.render", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=trim,  # our own page templates; user templates keep every newline
        lstrip_blocks=trim,
    )


@lru_cache(maxsize=256)
def compile_template(source: str, *, where: str, autoescape: bool = False) -> Template:
    """Compile a user template, turning syntax errors into a config error at `where`."""
    from jinja2 import TemplateSyntaxError

    try:
        return environment(autoescape, trim=False).from_string(source)
    except TemplateSyntaxError as error:
        raise ConfigError(
            _("{where}: template error on line {line}: {message}").format(
                where=where, line=error.lineno, message=error.message
            )
        ) from None


def render_template(
    source: str, values: Mapping[str, Any], *, where: str, autoescape: bool = False
) -> str:
    """Render a user template with the post fields; unknown fields name the field."""
    from jinja2 import UndefinedError
    from jinja2.exceptions import SecurityError

    template = compile_template(source, where=where, autoescape=autoescape)
    try:
        return template.render(**values).strip()
    except UndefinedError as error:
        raise ConfigError(
            _("{where}: {message}: use one of {fields}").format(
                where=where, message=error.message, fields=", ".join(sorted(values))
            )
        ) from None
    except SecurityError as error:
        raise ConfigError(
            _("{where}: the template tried something not allowed ({message})").format(
                where=where, message=error
            )
        ) from None


def render_page(name: str, **values: Any) -> str:
    """Render one of chanpub's own HTML templates (autoescaped)."""
    return environment(True).get_template(name).render(**values)


def check_template(source: str, fields: Mapping[str, Any], *, where: str) -> None:
    """Fail early (before anything is sent) on a template that cannot render."""
    render_template(source, fields, where=where)


def render_text(name: str, **values: Any) -> str:
    """Render one of chanpub's own plain-text templates (no escaping)."""
    return environment(False).get_template(name).render(**values)

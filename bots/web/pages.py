"""Server-rendered pages: one Jinja2 environment, the catalogs' `t`, the page language from ?lang= or a cookie."""
from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.i18n import LANGUAGES, t

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
TEMPLATES.globals["t"] = t
STATIC = Path(__file__).parent / "static"


def language(request: Request) -> str:
    """?lang= wins (and is remembered), then the cookie, then the deployment's default."""
    asked = request.query_params.get("lang") or request.cookies.get("lang")
    return asked if asked in LANGUAGES else request.app.state.deps.config.region.default_language


def render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    lang = language(request)
    config = request.app.state.deps.config
    html = TEMPLATES.get_template(name).render(lang=lang, path=request.url.path, region=config.region.name,
                                               map_tiles=config.map, **context)
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    return response

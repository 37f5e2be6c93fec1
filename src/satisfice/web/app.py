"""The dashboard's ASGI app: a registry of read-only pages, each an HTML view and its JSON twin under ``/api/``.

Every page is a :class:`Page` (path, template, builder); the builder returns ``{"data": ..., "charts": ...}``,
the HTML view renders ``data`` and draws ``charts`` with the plotly.js served from ``/static`` (nothing is loaded
from another site), and ``/api/<path>`` returns ``data`` as JSON. Only GET and HEAD are routed. Responses carry
a strict Content-Security-Policy (scripts from this server only, no inline code).
"""

from __future__ import annotations

import contextlib
import hmac
import importlib.util
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jinja2
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from satisfice.errors import NotFoundError, SatisficeError
from satisfice.formatting import JINJA_FILTERS
from satisfice.reports.eval_report import TEMPLATES as REPORT_TEMPLATES
from satisfice.reports.eval_report import template_environment
from satisfice.store import Store
from satisfice.web import catalog_pages, evals_pages, gateway_pages, insights_pages, market_pages, pipeline_pages
from satisfice.web.gateway_rollup import GatewayRollup
from satisfice.web.params import Params
from satisfice.web.readonly import CatalogCache

HERE = Path(__file__).parent
TOKEN_COOKIE = "satisfice_web_token"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]


@dataclass
class Context:
    """What every page builder may read: the read-only store, the catalog cache and the gateway rollup."""

    store: Store
    catalog: CatalogCache
    gateway: GatewayRollup


Builder = Callable[[Context, Request, Params], dict[str, Any]]


@dataclass(frozen=True)
class Page:
    """One page: its path (a Starlette path pattern), title, template and builder."""

    name: str
    path: str
    title: str
    template: str
    build: Builder
    nav: bool = True
    api: str | None = None
    """The JSON twin's path when it is not ``/api`` + path (``/`` is ``/api/insights``)."""

    @property
    def api_path(self) -> str:
        """Where the page's JSON twin is served."""
        return self.api or ("/api/insights" if self.path == "/" else "/api" + self.path)


PAGES: tuple[Page, ...] = (
    Page("insights", "/", "Insights", "insights.html", lambda c, r, p: market_pages.insights(c.catalog, p)),
    Page("market", "/market", "Market", "market.html", lambda c, r, p: market_pages.market(c.catalog, p)),
    Page("catalog", "/catalog", "Catalog", "catalog.html", lambda c, r, p: catalog_pages.catalog_list(c.catalog, p)),
    Page("model", "/catalog/{model:path}", "Model", "model.html",
         lambda c, r, p: catalog_pages.model_page(c.catalog, r.path_params["model"], p), nav=False),
    Page("evals", "/evals", "Evals", "evals.html", lambda c, r, p: evals_pages.runs(c.store, p)),
    Page("eval_run", "/evals/{run}", "Eval run", "eval_run.html",
         lambda c, r, p: evals_pages.run(c.store, r.path_params["run"]), nav=False),
    Page("gateway", "/gateway", "Gateway", "gateway.html", lambda c, r, p: gateway_pages.gateway(c.gateway, p)),
    Page("pipeline", "/pipeline", "Pipeline", "pipeline.html", lambda c, r, p: pipeline_pages.pipeline(c.store, p)),
    Page("insight_feed", "/insights", "Insight feed", "insight_feed.html",
         lambda c, r, p: insights_pages.feed(c.store, p), api="/api/insights/list"),
    Page("insight", "/insights/{insight:int}", "Insight", "insight.html",
         lambda c, r, p: insights_pages.one(c.store, c.catalog, str(r.path_params["insight"])), nav=False),
)
"""The registry of pages; the navigation bar and the ``/api`` index derive from it."""


def _dumps(value: Any, **_: Any) -> str:
    """JSON for templates and the API: NaN and infinities become null, dates ISO strings."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def environment() -> jinja2.Environment:
    """Autoescaped templates: the dashboard's own first, then the shared report templates."""
    env = template_environment(jinja2.FileSystemLoader(str(HERE / "templates")))
    env.policies["json.dumps_function"] = _dumps
    env.filters.update(JINJA_FILTERS)
    env.globals["pages"] = [p for p in PAGES if p.nav]
    return env


def _plotly_js() -> Path:
    spec = importlib.util.find_spec("plotly")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"


STATIC: dict[str, tuple[Callable[[], Path], str]] = {
    "plotly.min.js": (_plotly_js, "text/javascript"),
    "charts.js": (lambda: REPORT_TEMPLATES / "charts.js", "text/javascript"),
    "style.css": (lambda: HERE / "static" / "style.css", "text/css"),
}


def _status(exc: SatisficeError) -> int:
    return 404 if isinstance(exc, NotFoundError) else 400


def _page_endpoint(page: Page, ctx: Context, env: jinja2.Environment, api: bool) -> Callable[[Request], Response]:
    template = None if api else env.get_template(page.template)

    def endpoint(request: Request) -> Response:
        params = Params(request.query_params)
        try:
            built = page.build(ctx, request, params)
        except SatisficeError as exc:
            if api:
                return Response(_dumps({"error": str(exc)}), _status(exc), media_type="application/json")
            html = env.get_template("error.html").render(title="Error", message=str(exc), current=page.name,
                                                          charts={})
            return HTMLResponse(html, _status(exc))
        if api:
            return Response(_dumps(built["data"]), media_type="application/json")
        assert template is not None
        query = dict(request.query_params)
        twin = page.api or ("/api/insights" if page.path == "/" else "/api" + request.url.path)
        return HTMLResponse(template.render(**built, current=page.name, title=page.title, query=query,
                                            api_url=twin + ("?" + urlencode(query) if query else "")))

    return endpoint


def _static(request: Request) -> Response:
    entry = STATIC.get(request.path_params["name"])
    if entry is None:
        return PlainTextResponse("not found", 404)
    path, media = entry
    return FileResponse(path(), media_type=media, headers={"cache-control": "public, max-age=86400"})


def _atom_endpoint(ctx: Context) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        body = insights_pages.atom(ctx.store, str(request.base_url))
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    return endpoint


def _api_index(request: Request) -> Response:
    return Response(_dumps({"pages": [{"name": p.name, "html": p.path, "api": p.api_path} for p in PAGES]}),
                    media_type="application/json")


class Guard:
    """ASGI middleware: security headers on every response, and the access token when one is set.

    A token is accepted as ``Authorization: Bearer T``, as the cookie this middleware sets, or once as
    ``?token=T`` (answered by a redirect that sets the cookie and drops the token from the address). With
    ``hosts``, a request whose ``Host`` names another host is refused: a page of another site that rebinds its
    name to 127.0.0.1 cannot read a dashboard served on loopback without a token.
    """

    def __init__(self, app: ASGIApp, token: str | None, hosts: frozenset[str] | None = None) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.hosts = hosts

    def _host_allowed(self, scope: Scope) -> bool:
        if self.hosts is None:
            return True
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
        name = host[1:].partition("]")[0] if host.startswith("[") else host.rpartition(":")[0] or host
        return name in self.hosts

    def _allowed(self, scope: Scope) -> bool:
        assert self.token is not None
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"")
        if auth.startswith(b"Bearer ") and hmac.compare_digest(auth[7:].strip(), self.token):
            return True
        for part in headers.get(b"cookie", b"").split(b";"):
            name, _, value = part.strip().partition(b"=")
            if name == TOKEN_COOKIE.encode() and hmac.compare_digest(value, self.token):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the token (when set), then pass the request on with the security headers added."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *SECURITY_HEADERS]
            await send(message)

        if not self._host_allowed(scope):
            await PlainTextResponse("400: unexpected Host header", 400)(scope, receive, secured)
            return
        if self.token is not None and not self._allowed(scope):
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            given = query.pop("token", None)
            if given is not None and hmac.compare_digest(given.encode(), self.token):
                target = scope["path"] + ("?" + urlencode(query) if query else "")
                response: Response = RedirectResponse(target, 303)
                response.set_cookie(TOKEN_COOKIE, given, httponly=True, samesite="strict")
            else:
                response = PlainTextResponse("401: a token is required (Authorization: Bearer T, or ?token=T)", 401)
            await response(scope, receive, secured)
            return
        await self.app(scope, receive, secured)


def _warm(ctx: Context) -> None:
    """Compute the Insights analyses and the gateway rollup once, so the first visitor does not wait."""
    import datetime as dt

    try:
        market_pages.insights(ctx.catalog, Params({}))
        ctx.gateway.read(dt.datetime.now(dt.UTC).replace(tzinfo=None), lambda r: None)
    except Exception as exc:  # warming is best effort: the page itself will report the error to its visitor
        logging.getLogger(__name__).warning("dashboard warm-up failed: %s", exc)


def create_app(store: Store, *, token: str | None = None, warm: bool = False,
               hosts: frozenset[str] | None = None) -> ASGIApp:
    """The dashboard over ``store`` (open it with :func:`satisfice.web.readonly.read_only_store`).

    With ``warm``, the slow first computations start in a background thread when the server starts; with
    ``hosts``, only requests naming one of those hosts are served (see :class:`Guard`).
    """
    ctx = Context(store, CatalogCache(store), GatewayRollup(store))
    env = environment()
    routes = [Route("/static/{name}", _static), Route("/api", _api_index), Route("/api/", _api_index)]
    routes.append(Route("/insights/feed.xml", _atom_endpoint(ctx)))
    for page in PAGES:
        routes.append(Route(page.api_path, _page_endpoint(page, ctx, env, True), name=f"api_{page.name}"))
        routes.append(Route(page.path, _page_endpoint(page, ctx, env, False), name=page.name))
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if warm:
            threading.Thread(target=_warm, args=(ctx,), daemon=True, name="web-warm").start()
        yield

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.context = ctx
    return Guard(app, token, hosts)

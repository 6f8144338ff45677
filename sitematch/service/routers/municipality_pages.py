"""The municipality's pages: its plots on a map and in a table, upload with the report row by row,
withdraw, history. A municipality sees and changes only its own plots; an admin names one (``?code=``).
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sitematch import schema as s
from sitematch._yaml import read_yaml
from sitematch.errors import UploadError
from sitematch.service.accounts import User
from sitematch.service.auth import MUNICIPALITY_PAGE, Caller, own_municipality, page_caller
from sitematch.service.confirm import CONFIRM_FIELD, confirm_page, is_confirmed
from sitematch.service.errors import ServiceError
from sitematch.service.geojson import redact
from sitematch.service.mappings import SavedMappings
from sitematch.service.maps import plots_map
from sitematch.service.matches import file_headers
from sitematch.service.plots import plot_owner, readable, store_plots, store_upload
from sitematch.service.priority import run_upload
from sitematch.service.runs import plain
from sitematch.service.state import Service, service
from sitematch.service.templating import page_language, render, translator
from sitematch.store import open_store
from sitematch.store.base import EXTRAS, extras_of
from sitematch.upload.mapping import MAX_MAPPING_BYTES
from sitematch.upload.words import message, report_for_page, summary_text

router = APIRouter(include_in_schema=False)
SHOWN = (s.PLOT_ID, s.NAME, s.AREA_HA, s.ZONING, s.PLAN_STATUS, s.OWNER, "status", "version", "uploaded_at")


def _code(who: Caller, code: str | None) -> str:
    if who.user.municipality:
        return who.user.municipality
    if not code or not (code.isdigit() and len(code) == 4):
        raise ServiceError("name the municipality: /municipality?code=<kommunkod>", key="code")
    return code


#: The codes a value can be mapped to in the page, with words, by canonical column.
CHOICES: dict[str, list[tuple[str, str]]] = {
    s.ZONING: list(s.ZONING_CODES.items()),
    s.PLAN_STATUS: [(v, v.replace("_", " ")) for v in s.PLAN_STATUSES],
    s.OWNER: [(v, v) for v in s.OWNERS],
    s.READY: [("ja", "ja (yes)"), ("nej", "nej (no)")],
    s.BROWNFIELD: [("ja", "ja (yes)"), ("nej", "nej (no)")],
}


def _page(request: Request, svc: Service, who: Caller, code: str, *, status: int = 201, **extra: Any) -> HTMLResponse:
    plots = store_plots(svc, status="all", municipality_code=code)
    rows = [{k: plain(r.get(k)) for k in SHOWN} for r in redact(plots, who.user).to_dict("records")]
    for row, extras in zip(rows, plots[EXTRAS] if EXTRAS in plots else [None] * len(rows), strict=True):
        row["extras"] = extras_of(extras)
    status = status if extra else 200  # a page after an upload (201, 422), or the plain page
    saved = SavedMappings(svc.db).get(code)
    extra.setdefault("mapping_text", saved["mapping"] if saved else "")
    report = extra.get("report") or {}
    problems = report.get("problems", [])
    missing = [p["field"] for p in problems if p["row"] is None and "missing required" in p["message"]]
    lang = page_language(request, who)
    if report:  # the report's problems and notes in the page's language (upload/words.py)
        extra["report"] = report_for_page(report, lang)
    if extra.get("refused"):
        extra["refused"] = message(extra["refused"], lang)
    context = {"code": code, "name": svc.region.municipality_names.get(code, code), "plots": rows,
               "saved_mapping": saved, "missing_columns": missing, "choices": CHOICES, **extra}  # fmt: skip
    return render(request, "municipality.html", context, caller=who, status=status, lang=lang)


@router.get("/municipality", response_class=HTMLResponse)
def municipality_page(
    request: Request,
    code: str | None = None,
    svc: Service = Depends(service),
    who: Caller = Depends(MUNICIPALITY_PAGE),
) -> HTMLResponse:
    return _page(request, svc, who, _code(who, code))


@router.get("/municipality/map.html", response_class=HTMLResponse)
def municipality_map(
    code: str | None = None, svc: Service = Depends(service), who: Caller = Depends(MUNICIPALITY_PAGE)
) -> HTMLResponse:
    plots = store_plots(svc, status="all", municipality_code=_code(who, code))
    return HTMLResponse(plots_map(plots, svc.region), headers=file_headers("map.html"))


def page_mapping(form: Any, text: str, mapping_file: bytes | None) -> str | None:
    """The mapping an upload from the page uses, as YAML: a mapping file, else the text box, plus what
    was mapped in the page (``column:<field>`` = the file's column; ``from:<field>:<n>`` and
    ``value:<field>:<n>`` = a value and its code). None when there is no mapping at all.

    Raises
    ------
    UploadError
        The mapping text or file is not YAML.
    """
    source = mapping_file.decode("utf-8", errors="replace") if mapping_file else text
    data: dict[str, Any] = {}
    if source.strip():
        where = "the mapping file" if mapping_file else "the mapping in the page"
        doc = read_yaml(source, where=where, error=UploadError, max_chars=MAX_MAPPING_BYTES)
        if not isinstance(doc.data, dict):
            raise UploadError(f"{where}: a mapping has 'columns', 'units' and 'values' sections", where=where)
        data = doc.data
    for key, value in form.multi_items():
        kind, _, rest = str(key).partition(":")
        if kind == "column" and isinstance(value, str) and value:
            data.setdefault("columns", {})[rest] = value
        elif kind == "value" and isinstance(value, str) and value:
            field, _, n = rest.partition(":")
            written = form.get(f"from:{field}:{n}")
            if isinstance(written, str):
                data.setdefault("values", {}).setdefault(field, {})[written] = value
    if not data:
        return None
    if not isinstance(data.get("columns", {}), dict) or not isinstance(data.get("values", {}), dict):
        return source  # malformed: ColumnMapping.load says what is wrong
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@router.post("/municipality/upload", response_class=HTMLResponse)
async def upload_page(
    request: Request,
    file: UploadFile = File(),
    crs: str = Form(default="", max_length=100),
    accept_valid: bool = Form(default=False),
    repair: bool = Form(default=False),
    code: str | None = Form(default=None, max_length=8),
    mapping_file: UploadFile | None = File(default=None),
    mapping_text: str = Form(default="", max_length=MAX_MAPPING_BYTES),
    save_mapping: bool = Form(default=False),
    svc: Service = Depends(service),
    who: Caller = Depends(MUNICIPALITY_PAGE),
) -> HTMLResponse:
    municipality = _code(who, code)
    form = await request.form()
    raw_file, mapping = None, None
    if mapping_file is not None and mapping_file.filename:
        raw_file = await mapping_file.read(MAX_MAPPING_BYTES + 1)
    try:
        if raw_file is not None and len(raw_file) > MAX_MAPPING_BYTES:
            raise UploadError(f"the mapping file is larger than {MAX_MAPPING_BYTES:,} bytes; is it the right file?")
        mapping = page_mapping(form, mapping_text, raw_file)
        answer = await run_upload(
            store_upload, svc, who.user, file, mapping.encode("utf-8") if mapping else None, municipality=municipality,
            crs=crs, accept_valid=accept_valid, repair=repair,
        )  # fmt: skip
    except UploadError as exc:
        report = exc.report.to_json() if exc.report is not None else None
        return _page(request, svc, who, municipality, status=422, refused=str(exc).split("\n")[0],
                     report=json.loads(report) if report else None, mapping_text=mapping or mapping_text,
                     typed={"crs": crs, "repair": repair, "accept_valid": accept_valid})  # fmt: skip
    request.state.audit = {k: answer["summary"][k] for k in ("municipality_code", "inserted", "updated")}
    saved_note = None
    if save_mapping and mapping:
        SavedMappings(svc.db).save(municipality, mapping, who.user.username)
        _ = translator(request, who)
        saved_note = _("The mapping is saved: your next upload uses it unless you change it.")
    stored = summary_text(answer["summary"], page_language(request, who))
    return _page(request, svc, who, municipality, status=201, stored=stored, report=answer["report"],
                 mapping_text=mapping or "", mapping_saved=saved_note)  # fmt: skip


@router.post("/plots/{plot_id:path}/withdraw")
def withdraw_page(
    request: Request,
    plot_id: str,
    reason: str = Form(default="", max_length=500),
    confirm: str = Form(default="", alias=CONFIRM_FIELD, max_length=8),
    svc: Service = Depends(service),
    who: Caller = Depends(MUNICIPALITY_PAGE),
) -> Response:
    code = plot_owner(plot_id)
    own_municipality(who.user, code, f"plot {plot_id[:60]!r}")
    store = open_store(svc.config.store, create=False)
    target = "/municipality" + ("" if who.user.municipality else f"?code={code}")
    if not is_confirmed(confirm):  # asks first; 404 for a plot the store does not hold
        store.history(plot_id)
        return confirm_page(request, who, "withdraw_plot", name=plot_id, back=target, fields={"reason": reason})
    store.withdraw(plot_id, uploader=who.user.username, reason=reason)
    request.state.audit = {"plot": plot_id}
    return RedirectResponse(target, status_code=303)


@router.get("/plots/{plot_id:path}/history", response_class=HTMLResponse)
def history_page(
    request: Request, plot_id: str, svc: Service = Depends(service), who: Caller = Depends(page_caller)
) -> HTMLResponse:
    code = readable(who.user, plot_id, f"the history of {plot_id[:60]!r}")
    h = open_store(svc.config.store, create=False).history(plot_id).assign(**{s.MUNICIPALITY_CODE: code})
    rows = [{k: plain(v) for k, v in r.items()} for r in redact(h, who.user).to_dict("records")]
    for row in rows:
        row[EXTRAS] = extras_of(row.get(EXTRAS))
    return render(request, "history.html", {"plot_id": plot_id, "versions": rows}, caller=who)


# -- which leads its plots fit, and how its land could fit more ------------------------------------
def _fit_code(who: Caller, code: str | None) -> str:
    """The municipality a fit view is for: the caller's own (asking for another is 403), or an admin's choice."""
    if who.user.municipality and code and code != who.user.municipality:
        own_municipality(who.user, code[:8], f"municipality {code[:8]!r}'s view")
    return _code(who, code)


def municipality_job(svc: Service, what: str, job: Any) -> Any:
    """``job(layers, profiles, step)`` over every stored profile as a municipality may see it (confidential
    leads named only by sector), in a worker slot within the service's time limit."""
    from sitematch.service import planner_views
    from sitematch.service.runs import open_layers, run_limited

    profiles = planner_views.municipality_profiles(svc)

    def work(step: Any) -> Any:
        layers = open_layers(svc.config.layers, svc.config.store)
        step("layers")
        return job(layers, profiles, step)

    return run_limited(work, what)


def _fits(svc: Service, code: str) -> list[dict[str, Any]]:
    from sitematch.service import planner_views

    return municipality_job(
        svc,
        "the leads your plots fit",
        lambda layers, profiles, step: planner_views.plot_fits(layers, profiles, code, step),
    )


@router.get("/municipality/fit", response_class=HTMLResponse)
async def fit_page(
    request: Request,
    code: str | None = None,
    svc: Service = Depends(service),
    who: Caller = Depends(MUNICIPALITY_PAGE),
) -> HTMLResponse:
    municipality = _fit_code(who, code)
    plots = await run_in_threadpool(_fits, svc, municipality)
    n_leads = len(svc.records.profiles(User("(count)", "admin")))
    suffix = "" if who.user.municipality else f"?code={municipality}"
    context = {"code": municipality, "name": svc.region.municipality_names.get(municipality, municipality),
               "plots": plots, "n_leads": n_leads, "suffix": suffix}  # fmt: skip
    return render(request, "municipality_fit.html", context, caller=who)


@router.get("/municipality/fit.json")
async def fit_json(
    code: str | None = None, svc: Service = Depends(service), who: Caller = Depends(MUNICIPALITY_PAGE)
) -> dict[str, Any]:
    municipality = _fit_code(who, code)
    return {"municipality_code": municipality, "plots": await run_in_threadpool(_fits, svc, municipality)}


@router.get("/municipality/fit.csv")
async def fit_csv(
    code: str | None = None, svc: Service = Depends(service), who: Caller = Depends(MUNICIPALITY_PAGE)
) -> Response:
    from sitematch.service import planner_views

    municipality = _fit_code(who, code)
    rows = await run_in_threadpool(_fits, svc, municipality)
    name = f"fit_{municipality}.csv"
    return Response(
        planner_views.csv_bytes(planner_views.fit_table(rows)),
        media_type="text/csv; charset=utf-8",
        headers={**file_headers(name), "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/municipality/fit/map.html", response_class=HTMLResponse)
async def fit_map_page(
    code: str | None = None, svc: Service = Depends(service), who: Caller = Depends(MUNICIPALITY_PAGE)
) -> HTMLResponse:
    from sitematch.service import planner_views

    municipality = _fit_code(who, code)
    page = await run_in_threadpool(
        municipality_job, svc, "the map of the leads your plots fit",
        lambda layers, profiles, step: planner_views.municipality_fit_map(layers, profiles, municipality, step),
    )  # fmt: skip
    return HTMLResponse(page, headers=file_headers("map.html"))


@router.get("/municipality/more", response_class=HTMLResponse)
async def more_page(
    request: Request,
    code: str | None = None,
    svc: Service = Depends(service),
    who: Caller = Depends(MUNICIPALITY_PAGE),
) -> HTMLResponse:
    from sitematch.service import planner_views

    municipality = _fit_code(who, code)
    view = await run_in_threadpool(
        municipality_job, svc, "how your land could fit more leads",
        lambda layers, profiles, step: planner_views.more_leads(layers, profiles, municipality, step),
    )  # fmt: skip
    suffix = "" if who.user.municipality else f"?code={municipality}"
    context = {"code": municipality, "name": svc.region.municipality_names.get(municipality, municipality),
               "suffix": suffix, **view}  # fmt: skip
    return render(request, "municipality_more.html", context, caller=who)

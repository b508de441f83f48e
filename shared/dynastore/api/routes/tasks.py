"""Tasks and jobs (OGC API - Processes semantics) under ``/assets``.

``GET /assets/tasks[/{task_id}]`` describe the tasks; ``POST <asset path>/tasks/{task_id}/execute``
runs one on an asset at catalog, collection or item level (``mode=async-execute`` default, or
``Prefer: respond-async``; ``sync-execute``; ``dismiss``); ``/assets/jobs[/{job_id}[/results]]``
follow jobs, ``DELETE /assets/jobs/{job_id}`` dismisses one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from dynastore.api.deps import (
    ASSET_LEVELS,
    Editor,
    JSONResponse,
    Reader,
    base_url,
    get_services,
    next_link,
    page_document,
    read_json,
)
from dynastore.api.params import parse_limit
from dynastore.api.schemas import json_body
from dynastore.domain.asset import assets_path
from dynastore.domain.ids import check_id
from dynastore.errors import Invalid, NotFound
from dynastore.ports import Doc
from dynastore.services.assets import Scope
from dynastore.services.auth import Principal
from dynastore.services.jobs import ExecuteResult
from dynastore.services.jobs.records import NO_SUCH_JOB

router = APIRouter(tags=["tasks"])

EXECUTE_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "inputs": {
            "type": "object",
            "description": "task inputs (see GET /assets/tasks/{task_id}); `asset_metadata` is merged into the asset "
            "after a successful run",
            "additionalProperties": True,
        },
        "response": {"type": "string", "enum": ["document", "raw"]},
    },
    "example": {
        "inputs": {
            "asset_metadata": {
                "description": "Updated description from task execution",
                "properties": {"custom_field": "value"},
            }
        },
        "response": "document",
    },
}
MODE_DOC = "async-execute (default): 201 + Location; sync-execute: 200 with the results; dismiss: stop the task's job"
EXECUTE_DOC = (
    "Run a task on this asset. `async-execute` (default, also chosen by `Prefer: respond-async`) persists the job, "
    "queues it and answers 201 with its status and a `Location`; `sync-execute` answers 200 with the results, or 201 "
    "with the job when it runs longer than the sync timeout; `dismiss` stops this task's accepted or running job on "
    "this asset."
)


def _links_for_task(request: Request, task_id: str) -> list[dict[str, Any]]:
    href = f"{base_url(request)}/assets/tasks/{task_id}"
    return [{"rel": "self", "href": href, "type": "application/json", "title": "task description"}]


@router.get("/assets/tasks", summary="List the tasks", response_class=JSONResponse)
def list_tasks(request: Request, principal: Principal = Reader) -> JSONResponse:
    tasks = [{**t, "links": _links_for_task(request, t["id"])} for t in get_services(request).tasks.list_tasks()]
    links = [{"rel": "self", "href": f"{base_url(request)}/assets/tasks", "type": "application/json"}]
    return JSONResponse({"tasks": tasks, "processes": tasks, "links": links})


@router.get("/assets/tasks/{task_id}", summary="Describe a task (inputs, outputs, modes)", response_class=JSONResponse)
def describe_task(task_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    doc = get_services(request).tasks.describe_task(task_id)
    return JSONResponse({**doc, "links": _links_for_task(request, task_id)})


async def _execute(
    request: Request,
    scope: Scope,
    asset_id: str,
    task_id: str,
    mode: str | None,
    prefer: str | None,
    principal: Principal,
) -> JSONResponse:
    body = await read_json(request, required=False)
    _check_target_catalog(principal, body)
    services = get_services(request)
    result = await run_in_threadpool(
        services.tasks.execute,
        scope,
        check_id(asset_id, "asset id"),
        task_id,
        body,
        mode=mode,
        prefer=prefer,
        actor=principal.key_id,
    )
    return _execute_response(result, base_url(request))


def _check_target_catalog(principal: Principal, body: Any) -> None:
    """A task writes into ``inputs.catalog_id`` when it names one (``ingestion``): the key must hold its
    role there too, or a key scoped to one catalog could write into another through a task."""
    inputs = body.get("inputs") if isinstance(body, dict) else None
    target = inputs.get("catalog_id") if isinstance(inputs, dict) else None
    if isinstance(target, str):
        principal.require_catalog(target)


def _execute_response(result: ExecuteResult, root: str) -> JSONResponse:
    """200 with the results of a completed sync run; else the job's status document: 201 (+ ``Location``)
    while it carries on, 200 when it ended or was dismissed."""
    job_id = result.job["id"]
    job_url = f"{root}/assets/jobs/{job_id}"
    if result.outcome == "completed":
        return JSONResponse(result.results, headers={"Link": f'<{job_url}>; rel="monitor"', "X-Job-Id": job_id})
    headers = {} if result.outcome == "dismissed" else {"Location": job_url}
    if result.respond_async:
        headers["Preference-Applied"] = "respond-async"
    status_code = 201 if result.outcome == "accepted" else 200
    return JSONResponse(status_document(result.job, root), status_code=status_code, headers=headers)


def status_document(doc: Doc, root: str) -> Doc:
    """The OGC API - Processes status info of a job, plus our own fields; links under ``root``."""
    job_url = f"{root}/assets/jobs/{doc['id']}"
    links = [
        {"rel": "self", "href": job_url, "type": "application/json", "title": "job status"},
        {"rel": "monitor", "href": job_url, "type": "application/json"},
        {
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/processes",
            "href": f"{root}/assets/tasks/{doc['task_id']}",
            "type": "application/json",
            "title": "task description",
        },
    ]
    if doc.get("status") == "successful":
        links.append(
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/results",
                "href": f"{job_url}/results",
                "type": "application/json",
                "title": "results",
            }
        )
    if doc.get("asset_id"):
        asset_path = f"{assets_path(doc['catalog_id'], doc.get('collection_id'), doc.get('item_id'))}/{doc['asset_id']}"
        links.append({"rel": "asset", "href": f"{root}{asset_path}", "type": "application/json"})
    rendered = {k: v for k, v in doc.items() if k not in ("runner", "heartbeat", "committing")}
    rendered.update(
        {
            "jobID": doc["id"],
            "processID": doc["task_id"],
            "type": "process",
            "running": doc.get("runner") is not None,
            "links": links,
        }
    )
    return rendered


_EXECUTE_KW: dict[str, Any] = {
    "response_class": JSONResponse,
    "openapi_extra": {"requestBody": {**json_body(EXECUTE_BODY)["requestBody"], "required": False}},
    "description": EXECUTE_DOC,
    "responses": {201: {"description": "job accepted (async)"}, 200: {"description": "results (sync) or status"}},
}


def _register_execute(base: str, scope_dependency: Callable[..., Scope], label: str) -> None:
    """``POST {base}/{asset_id}/tasks/{task_id}/execute`` for one asset level."""
    scope_dep = Depends(scope_dependency)

    @router.post(
        f"{base}/{{asset_id}}/tasks/{{task_id}}/execute",
        name=f"execute_on_{label.replace('-', '_')}_asset",
        summary=f"Execute a task on a {label} asset",
        **_EXECUTE_KW,
    )
    async def execute(
        asset_id: str,
        task_id: str,
        request: Request,
        mode: str | None = Query(default=None, description=MODE_DOC),
        prefer: str | None = Header(default=None, description="`respond-async` asks for an async job"),
        principal: Principal = Editor,
        scope: Scope = scope_dep,
    ) -> JSONResponse:
        return await _execute(request, scope, asset_id, task_id, mode, prefer, principal)


for _base, _scope_dependency, _label in ASSET_LEVELS:
    _register_execute(_base, _scope_dependency, _label)


def _job_scope(principal: Principal, catalog_id: str | None) -> dict[str, str]:
    """The catalog filter a scoped key's job list needs: its own catalog (several: it must name one)."""
    if catalog_id:
        principal.require_catalog(catalog_id)
        return {}
    if principal.catalogs is None:
        return {}
    if len(principal.catalogs) == 1:
        return {"catalog_id": next(iter(principal.catalogs))}
    raise Invalid(
        f"the key {principal.key_id} is scoped to several catalogs: list jobs one catalog at a time with "
        f"catalog_id= one of {', '.join(sorted(principal.catalogs))}"
    )


def _visible_job(request: Request, principal: Principal, job_id: str) -> dict[str, Any]:
    """The job, when it belongs to a catalog the key may see (404 otherwise: its existence is not told)."""
    doc = get_services(request).tasks.get_job(job_id)
    if not principal.may_access(str(doc.get("catalog_id"))):
        raise NotFound(f"job {job_id!r} does not exist", type=NO_SUCH_JOB)
    return doc


@router.get("/assets/jobs", summary="List jobs (newest first)", response_class=JSONResponse)
def list_jobs(
    request: Request,
    status: str | None = Query(default=None, description="accepted, running, successful, failed or dismissed"),
    task_id: str | None = Query(default=None, description="only jobs of this task (alias `task`, `processID`)"),
    task: str | None = Query(default=None, include_in_schema=False),
    process_id: str | None = Query(default=None, alias="processID", include_in_schema=False),
    catalog_id: str | None = Query(default=None, description="only jobs on assets of this catalog (alias `catalog`)"),
    catalog: str | None = Query(default=None, include_in_schema=False),
    asset_id: str | None = Query(default=None, description="only jobs on this asset (alias `asset`)"),
    asset: str | None = Query(default=None, include_in_schema=False),
    limit: str | None = Query(default=None, description="page size, 1..10000"),
    token: str | None = Query(default=None, description="opaque cursor from a `next` link"),
    principal: Principal = Reader,
) -> JSONResponse:
    services = get_services(request)
    candidates = {
        "status": status,
        "task_id": task_id or task or process_id,
        "catalog_id": catalog_id or catalog,
        "asset_id": asset_id or asset,
    }
    filters = {k: v for k, v in candidates.items() if v}
    filters.update(_job_scope(principal, filters.get("catalog_id")))
    page = services.tasks.list_jobs(filters=filters, limit=parse_limit(limit, services.settings), token=token)
    jobs = [status_document(doc, base_url(request)) for doc in page.items]
    return JSONResponse(page_document(page, "jobs", next_link(request, page.next_token), jobs))


@router.get("/assets/jobs/{job_id}", summary="A job's status", response_class=JSONResponse)
def get_job(job_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    doc = _visible_job(request, principal, job_id)
    return JSONResponse(status_document(doc, base_url(request)))


@router.get("/assets/jobs/{job_id}/results", summary="A finished job's results", response_class=JSONResponse)
def get_job_results(job_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    _visible_job(request, principal, job_id)
    return JSONResponse(get_services(request).tasks.results(job_id))


@router.delete("/assets/jobs/{job_id}", summary="Dismiss a job (stops it when running)", response_class=JSONResponse)
def dismiss_job(job_id: str, request: Request, principal: Principal = Editor) -> JSONResponse:
    _visible_job(request, principal, job_id)
    doc = get_services(request).tasks.dismiss(job_id, actor=principal.key_id)
    return JSONResponse(status_document(doc, base_url(request)))

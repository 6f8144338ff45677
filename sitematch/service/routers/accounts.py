"""``/api/me``, ``/api/accounts`` (admins), ``/api/tokens`` (your own API tokens), ``/api/audit`` (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from sitematch.service import audit
from sitematch.service.auth import ADMIN, Caller, caller
from sitematch.service.state import Service, service

router = APIRouter(prefix="/api", tags=["accounts"])


class NewAccount(BaseModel):
    """An account to create: role ``adviser``, ``planner``, ``admin`` or ``municipality:<kommunkod>``."""

    username: str = Field(max_length=64)
    role: str = Field(max_length=20)
    password: str = Field(min_length=1, max_length=200)


class NewToken(BaseModel):
    """A name for the token, to tell your tokens apart (``qgis``, ``script``)."""

    name: str = Field(default="token", max_length=100)


@router.get("/me", summary="Who you are")
def me(who: Caller = Depends(caller)) -> dict[str, Any]:
    return {"username": who.user.username, "role": who.user.role, "via": who.via}


@router.get("/accounts", summary="Every account (admins)")
def list_accounts(svc: Service = Depends(service), _: Caller = Depends(ADMIN)) -> list[dict[str, str]]:
    return [{"username": u.username, "role": u.role} for u in svc.accounts.all()]


@router.post("/accounts", status_code=201, summary="Create an account (admins)")
def add_account(
    request: Request, body: NewAccount, svc: Service = Depends(service), _: Caller = Depends(ADMIN)
) -> dict[str, str]:
    user = svc.accounts.add(body.username, body.role, body.password)
    request.state.audit = {"account": user.username, "role": user.role}
    return {"username": user.username, "role": user.role}


@router.delete("/accounts/{username}", status_code=204, summary="Delete an account (admins)")
def remove_account(
    request: Request, username: str, svc: Service = Depends(service), _: Caller = Depends(ADMIN)
) -> Response:
    svc.accounts.remove(username)
    request.state.audit = {"account": username}
    return Response(status_code=204)


@router.post("/accounts/{username}/unlock", status_code=204, summary="Lift an account's login lock (admins)")
def unlock_account(
    request: Request, username: str, svc: Service = Depends(service), _: Caller = Depends(ADMIN)
) -> Response:
    svc.accounts.unlock(username)
    svc.logins.forget_name(username)
    request.state.audit = {"unlock": username[:64]}
    return Response(status_code=204)


@router.get("/tokens", summary="Your API tokens (never the tokens themselves)")
def list_tokens(svc: Service = Depends(service), who: Caller = Depends(caller)) -> list[dict[str, Any]]:
    return svc.accounts.tokens(who.user.username)


@router.post("/tokens", status_code=201, summary="Create an API token: it is shown this once")
def add_token(
    request: Request, body: NewToken, svc: Service = Depends(service), who: Caller = Depends(caller)
) -> dict[str, Any]:
    token_id, token = svc.accounts.create_token(who.user.username, body.name)
    request.state.audit = {"token": token_id}
    mine = next(t for t in svc.accounts.tokens(who.user.username) if t["id"] == token_id)
    return {"id": token_id, "name": body.name, "token": token, "expires_at": mine["expires_at"]}


@router.post("/tokens/{token_id}/rotate", status_code=201, summary="Replace one of your API tokens with a new one")
def rotate_token(
    request: Request, token_id: str, svc: Service = Depends(service), who: Caller = Depends(caller)
) -> dict[str, Any]:
    new_id, token = svc.accounts.rotate_token(who.user.username, token_id)
    request.state.audit = {"token": new_id, "replaces": token_id[:20]}
    mine = next(t for t in svc.accounts.tokens(who.user.username) if t["id"] == new_id)
    return {"id": new_id, "name": mine["name"], "token": token, "expires_at": mine["expires_at"]}


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke one of your API tokens")
def revoke_token(
    request: Request, token_id: str, svc: Service = Depends(service), who: Caller = Depends(caller)
) -> Response:
    svc.accounts.revoke_token(who.user.username, token_id)
    request.state.audit = {"token": token_id}
    return Response(status_code=204)


@router.get("/audit", summary="The audit log, latest first (admins)")
def audit_log(limit: int = 200, svc: Service = Depends(service), _: Caller = Depends(ADMIN)) -> list[dict[str, Any]]:
    return audit.entries(svc.db, limit=max(1, min(limit, 10_000)))

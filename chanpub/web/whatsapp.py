"""/webhooks/whatsapp: Meta's verification handshake (GET) and delivery receipts (POST),
recorded per subscriber in the ledger so `chanpub history` shows delivered, read and
failed counts and lists the numbers that failed.

Docs: https://developers.facebook.com/docs/graph-api/webhooks/getting-started and
https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
Meta resends a POST that does not get a 200, so every signed POST is answered 200 even
when a status names a message chanpub did not send.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from chanpub.channels.whatsapp.webhook import SIGNATURE_HEADER, StatusEvent, signature_ok

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from chanpub.config import Config
    from chanpub.ledger import Ledger

COUNTED = ("sent", "delivered", "read", "failed")


def whatsapp_routes(config: Config, *, verify_token: str, app_secret: str) -> list[BaseRoute]:
    """The GET and POST routes of the webhook."""
    import hmac

    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    async def verify(request: Request) -> Response:
        query = request.query_params
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") == "subscribe" and hmac.compare_digest(
            token.encode(), verify_token.encode()
        ):
            return PlainTextResponse(query.get("hub.challenge", ""))
        return PlainTextResponse("forbidden", status_code=403)

    async def receive(request: Request) -> Response:
        body = await request.body()
        if not signature_ok(app_secret, body, request.headers.get(SIGNATURE_HEADER)):
            return PlainTextResponse("bad signature", status_code=401)
        try:
            payload: Any = json.loads(body)
        except ValueError:
            return PlainTextResponse("not JSON", status_code=400)
        from starlette.concurrency import run_in_threadpool

        from chanpub.channels.whatsapp.webhook import status_events

        recorded = await run_in_threadpool(record_statuses, config, status_events(payload))
        return JSONResponse({"recorded": recorded})

    return [Route("/", verify, methods=["GET"]), Route("/", receive, methods=["POST"])]


def record_statuses(config: Config, events: Iterable[StatusEvent]) -> int:
    """Record each status on its subscriber (found by the delivery key the message carried,
    else by its wamid), never moving one back; returns how many items changed."""
    from chanpub.actions import open_ledger

    ledger = open_ledger(config, create=False)
    if ledger is None:
        return 0
    changed_keys: set[str] = set()
    try:
        for event in events:
            key = _record(ledger, event)
            if key is not None:
                changed_keys.add(key)
        for key in changed_keys:
            counts = ledger.item_counts(key)
            ledger.merge_details(key, {state: counts.get(state, 0) for state in COUNTED})
    finally:
        ledger.close()
    return len(changed_keys)


def _record(ledger: Ledger, event: StatusEvent) -> str | None:
    """Apply one status; the delivery key it changed, or None."""
    key, item = event.callback, event.phone
    if key is None or ledger.item_status(key, item) is None:
        found = ledger.item_for_remote_id(event.wamid)
        if found is None:
            return None
        key, item = found
    current = ledger.item_status(key, item)
    if not event.moves(current):
        return None
    # A receipt settles an item whose send answer was lost: it did reach WhatsApp.
    ledger.set_item(key, item, event.status, remote_id=event.wamid, error=event.error)
    return key

"""HTTP routes of the journal for the accountants: its lines (JSON, CSV, XLSX), trial balance."""

from __future__ import annotations

from typing import Any

from chalice import Response

from shared.domain.access import Action
from shared.http import negotiation
from shared.http.routing import Routes, json_response

routes = Routes(__name__)


@routes.route("/ledger/journal", methods=["GET"], requires=Action.READ_REPORTS)
def get_journal() -> Response:
    from functions.ledger.journal import JournalQuery, read_journal

    query = routes.query(JournalQuery)
    wanted = negotiation.chosen(query.format, routes.request.headers.get("Accept"))
    answer = read_journal(query)
    return json_response(answer) if wanted == "json" else _download(answer, query.limit, wanted)


def _download(answer: dict[str, Any], limit: int, wanted: str) -> Response:
    """The page ``read_journal`` answered as CSV or XLSX: the CSV is the nightly export's
    (``journal.to_csv``); the next page's address is in ``Link`` (RFC 8288, ``rel="next"``),
    as a file has no room for a cursor."""
    from urllib.parse import urlencode

    from functions.ledger.journal import CSV_CONTENT_TYPE, as_sheet
    from shared.domain import journal

    name = f"journal_{answer['from']}_{answer['to']}"
    if wanted == "csv":
        response = Response(
            body=journal.to_csv(answer["entries"]),
            status_code=200,
            headers={
                "Content-Type": CSV_CONTENT_TYPE,
                "Content-Disposition": f'attachment; filename="{name}.csv"',
                "Vary": "Accept",
            },
        )
    else:
        response = negotiation.file_response(as_sheet(answer), name, "xlsx")
    if answer["next_cursor"]:
        following = {"from": answer["from"], "to": answer["to"], "limit": limit}
        link = urlencode({**following, "format": wanted, "cursor": answer["next_cursor"]})
        response.headers["Link"] = f'</ledger/journal?{link}>; rel="next"'
    return response


@routes.route("/ledger/trial-balance", methods=["GET"], requires=Action.READ_REPORTS)
def get_trial_balance() -> Response:
    from functions.ledger.journal import TrialBalanceQuery, read_trial_balance

    return json_response(read_trial_balance(routes.query(TrialBalanceQuery)))

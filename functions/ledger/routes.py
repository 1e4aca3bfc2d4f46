"""HTTP routes of the journal for the accountants: its lines (JSON, CSV, XLSX), trial balance."""

from __future__ import annotations

from chalice import Response

from shared.domain.access import Action
from shared.http import negotiation
from shared.http.routing import Routes, json_response

routes = Routes(__name__)


@routes.route("/ledger/journal", methods=["GET"], requires=Action.READ_REPORTS)
def get_journal() -> Response:
    from functions.ledger.journal import JournalQuery, download, read_journal

    query = routes.query(JournalQuery)
    wanted = negotiation.chosen(query.format, routes.request.headers.get("Accept"))
    answer = read_journal(query)
    return json_response(answer) if wanted == "json" else download(answer, query, wanted)


@routes.route("/ledger/trial-balance", methods=["GET"], requires=Action.READ_REPORTS)
def get_trial_balance() -> Response:
    from functions.ledger.journal import TrialBalanceQuery, read_trial_balance

    return json_response(read_trial_balance(routes.query(TrialBalanceQuery)))

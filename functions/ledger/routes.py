"""HTTP routes of the journal for the accountants: its lines (JSON or CSV), the trial balance."""

from __future__ import annotations

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import Routes, json_response

routes = Routes(__name__)


@routes.route("/ledger/journal", methods=["GET"], requires=Action.READ_REPORTS)
def get_journal() -> Response:
    from functions.ledger.journal import JournalQuery, as_csv, read_journal, wants_csv

    query = routes.query(JournalQuery)
    answer = read_journal(query)
    if not wants_csv(query, routes.request.headers.get("Accept", "")):
        return json_response(answer)
    body, headers = as_csv(answer, query)
    return Response(body=body, status_code=200, headers={**headers})


@routes.route("/ledger/trial-balance", methods=["GET"], requires=Action.READ_REPORTS)
def get_trial_balance() -> Response:
    from functions.ledger.journal import TrialBalanceQuery, read_trial_balance

    return json_response(read_trial_balance(routes.query(TrialBalanceQuery)))

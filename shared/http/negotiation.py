"""Content negotiation of the report GETs: JSON, CSV or an XLSX workbook.

``?format=json|csv|xlsx`` wins (a browser's link cannot set Accept); else the Accept header
(RFC 9110 section 12.5.1: media ranges with their q weights; none or ``*/*`` means JSON). An
Accept that names nothing the route can produce is answered 406, as problem+json.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from chalice import Response

from shared.http import problems

if TYPE_CHECKING:
    from shared.adapters.spreadsheets import Sheet

Format = Literal["json", "csv", "xlsx"]
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES: dict[str, Format] = {JSON_TYPE: "json", CSV_TYPE: "csv", XLSX_TYPE: "xlsx"}
_RANGES: dict[str, Format] = {"*/*": "json", "application/*": "json", "text/*": "csv"}


def chosen(format_param: str | None, accept: str | None) -> Format:
    """The format asked for: ``format`` if given, else the best Accept range (406 if none)."""
    if format_param in {"json", "csv", "xlsx"}:
        return format_param  # type: ignore[return-value]
    if not accept or not accept.strip():
        return "json"
    offers: list[tuple[float, int, int, Format]] = []
    for position, part in enumerate(accept.split(",")):
        media, weight = _range(part)
        found = MEDIA_TYPES.get(media) or _RANGES.get(media)
        if found is not None and weight > 0:
            offers.append((weight, int(media in MEDIA_TYPES), -position, found))
    if not offers:
        raise not_acceptable()
    return max(offers)[3]


def _range(part: str) -> tuple[str, float]:
    media, *parameters = (piece.strip() for piece in part.split(";"))
    weight = 1.0
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                weight = 0.0
    return media.lower(), weight


def not_acceptable() -> problems.Problem:
    offered = ", ".join(MEDIA_TYPES)
    return problems.Problem(
        406,
        "not-acceptable",
        "Not acceptable",
        f"this report is answered as {offered}; Accept named none of them",
    )


def file_response(sheet: Sheet, filename: str, format_: Format) -> Response:
    """``sheet`` as a CSV or XLSX download named ``filename`` (without its extension)."""
    from shared.adapters import spreadsheets

    if format_ == "xlsx":
        body: str | bytes = spreadsheets.to_xlsx(sheet)
        content_type = spreadsheets.XLSX_TYPE
    else:
        body, content_type = spreadsheets.to_csv(sheet), spreadsheets.CSV_TYPE
    disposition = f'attachment; filename="{filename}.{format_}"'
    headers: dict[str, str | list[str]] = {
        "Content-Type": content_type,
        "Content-Disposition": disposition,
        "Vary": "Accept",
    }
    return Response(body=body, status_code=200, headers=headers)

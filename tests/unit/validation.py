"""The official checks a Peppol access point runs on a UBL invoice or credit note, offline.

Three layers, each from the vendored copies under tests/schemas (see their READMEs):

- the OASIS UBL 2.1 XSD (lxml);
- the CEN EN 16931 business rules for UBL (the compiled XSLT CEN publishes, run with Saxon);
- the Peppol BIS Billing 3.0 rules (the Peppol schematron, compiled once with SchXslt).

``validator()`` loads and compiles them once per process (a few seconds), so tests and benches
share one instance; ``Validator.fatal`` returns what makes a receiver reject the document.

Like the validators receivers run (KoSIT's scenarios, a Peppol access point's), the rules follow
what the document declares: the Peppol rules check documents whose CustomizationID is Peppol BIS
Billing 3.0; one declaring the EN 16931 core (an e-mail-only document) is held to the XSD and the
CEN rules. ``fatal(xml, peppol=True)`` applies the Peppol rules regardless.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree
from saxonche import PySaxonProcessor, PyXsltExecutable

SCHEMAS = Path(__file__).parents[1] / "schemas"
XSD = SCHEMAS / "ubl-2.1" / "maindoc"
CEN_RULES = SCHEMAS / "en16931-ubl-1.3.16" / "EN16931-UBL-validation.xslt"
PEPPOL_RULES = SCHEMAS / "peppol-bis-3.0.19" / "PEPPOL-EN16931-UBL.xslt"
PEPPOL_BIS = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
UBL_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


@dataclass(frozen=True)
class Failure:
    """One broken rule: its id (``XSD`` for the schema), where, and the rule's message."""

    rule: str
    location: str
    text: str


class Validator:
    def __init__(self) -> None:
        parser = etree.XMLParser(no_network=True)
        self._schemas = {
            root: etree.XMLSchema(etree.parse(str(XSD / f"UBL-{root}-2.1.xsd"), parser))
            for root in ("Invoice", "CreditNote")
        }
        self._saxon = PySaxonProcessor(license=False)
        compiler = self._saxon.new_xslt30_processor()
        self._rules: dict[str, PyXsltExecutable] = {
            "CEN": compiler.compile_stylesheet(stylesheet_file=str(CEN_RULES)),
            "Peppol": compiler.compile_stylesheet(stylesheet_file=str(PEPPOL_RULES)),
        }

    def fatal(self, xml: bytes, *, peppol: bool | None = None) -> list[Failure]:
        """Every fatal failure of the XSD, the CEN rules and (for a document declaring Peppol
        BIS, or with ``peppol=True``) the Peppol rules, warnings aside."""
        root = etree.fromstring(xml)
        schema = self._schemas[etree.QName(root).localname]
        if not schema.validate(root):
            return [Failure("XSD", str(e.line), e.message) for e in schema.error_log]
        if peppol is None:
            peppol = root.findtext(f"{{{UBL_CBC}}}CustomizationID") == PEPPOL_BIS
        document = self._saxon.parse_xml(xml_text=xml.decode("utf-8"))
        return [
            failure
            for name, executable in self._rules.items()
            if peppol or name != "Peppol"
            for failure in fatal_asserts(executable.transform_to_string(xdm_node=document))
        ]

    def rules_broken(self, xml: bytes, *, peppol: bool | None = None) -> set[str]:
        return {failure.rule for failure in self.fatal(xml, peppol=peppol)}


def fatal_asserts(svrl: str | None) -> list[Failure]:
    """SVRL failed asserts flagged fatal (or not flagged, which both rule sets mean as fatal)."""
    assert svrl, "the rules produced no report"
    report = etree.fromstring(svrl.encode("utf-8"))
    return [
        Failure(
            rule=element.get("id", "?"),
            location=element.get("location", ""),
            text=" ".join(element.findtext("svrl:text", "", SVRL).split()),
        )
        for element in report.iterfind("svrl:failed-assert", SVRL)
        if element.get("flag", "fatal") == "fatal"
    ]


@cache
def validator() -> Validator:
    return Validator()

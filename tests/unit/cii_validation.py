"""The official checks of a CII invoice or credit note (the XML of a Factur-X PDF), offline.

Two layers, from the vendored copies under tests/schemas/en16931-cii-1.3.16 (see its README):

- the UN/CEFACT Cross Industry Invoice D16B XSD (lxml);
- the CEN EN 16931 business rules for CII (the compiled XSLT CEN publishes, run with Saxon).

``cii_validator()`` loads and compiles them once per process; ``CiiValidator.fatal`` returns
what makes a receiver reject the document, as ``validation.Validator.fatal`` does for UBL.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree
from saxonche import PySaxonProcessor

from tests.unit.validation import Failure, fatal_asserts

RULES = Path(__file__).parents[1] / "schemas" / "en16931-cii-1.3.16"
XSD = RULES / "schema" / "CrossIndustryInvoice_100pD16B.xsd"
CEN_RULES = RULES / "EN16931-CII-validation.xslt"


class CiiValidator:
    def __init__(self) -> None:
        self._schema = etree.XMLSchema(etree.parse(str(XSD), etree.XMLParser(no_network=True)))
        self._saxon = PySaxonProcessor(license=False)
        compiler = self._saxon.new_xslt30_processor()
        self._rules = compiler.compile_stylesheet(stylesheet_file=str(CEN_RULES))

    def fatal(self, xml: bytes) -> list[Failure]:
        """Every failure of the XSD, else every fatal failure of the CEN rules."""
        root = etree.fromstring(xml)
        if not self._schema.validate(root):
            return [Failure("XSD", str(e.line), e.message) for e in self._schema.error_log]
        document = self._saxon.parse_xml(xml_text=xml.decode("utf-8"))
        return fatal_asserts(self._rules.transform_to_string(xdm_node=document))

    def rules_broken(self, xml: bytes) -> set[str]:
        return {failure.rule for failure in self.fatal(xml)}


@cache
def cii_validator() -> CiiValidator:
    return CiiValidator()

"""Any sequence of invoices, credit notes, payments and allocations keeps the books straight."""

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from shared.domain import invoice as invoicing
from shared.domain import ledger
from shared.domain.invoice import CreditError, Invoice, InvoiceStatus
from shared.domain.ledger import JournalEntry
from shared.domain.money import quantize
from shared.domain.seller import DEMO
from shared.domain.terms import PaymentTerms
from tests.unit.test_invoice import make_customer, make_order

AT = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
CUSTOMERS = {
    "cus_de": make_customer(
        customer_id="cus_de", terms=PaymentTerms.net(30, discount_percent="2", discount_days=10)
    ),
    "cus_fr": make_customer(customer_id="cus_fr", country="FR", tax_id="FR40303265045"),
    "cus_us": make_customer(customer_id="cus_us", country="US"),
}
CATEGORIES = ("standard", "reduced", "zero", "exempt")

prices = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(500), places=3)
order_lines = st.lists(
    st.tuples(st.sampled_from(CATEGORIES), st.integers(1, 7), prices.map(str)),
    min_size=1,
    max_size=4,
)
cents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(2000), places=2)


class Books(RuleBasedStateMachine):
    """A model of the receivables next to the ledger the domain builders post."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[JournalEntry] = []
        self.invoices: dict[str, Invoice] = {}
        self.held = dict.fromkeys(CUSTOMERS, Decimal(0))  # unapplied cash held per customer
        self.sequence = 0

    def _next(self, prefix: str) -> str:
        self.sequence += 1
        return f"{prefix}_{self.sequence}"

    def _post(self, entry: JournalEntry) -> None:
        assert entry.entry_id not in {known.entry_id for known in self.entries}
        self.entries.append(entry)

    def _creditable(self) -> list[Invoice]:
        return [
            inv
            for inv in self.invoices.values()
            if inv.status is not InvoiceStatus.CREDITED
            and any(
                line.quantity > inv.credited_quantities.get(line.line_no, 0) for line in inv.lines
            )
        ]

    @rule(customer_id=st.sampled_from(sorted(CUSTOMERS)), lines=order_lines)
    def issue_invoice(self, customer_id: str, lines: list[tuple[str, int, str]]) -> None:
        order = make_order(*lines, customer_id=customer_id)
        try:
            draft = invoicing.draft(
                invoice_id=self._next("inv"),
                customer=CUSTOMERS[customer_id],
                seller=DEMO,
                order=order,
                quantities={line.line_no: line.quantity for line in order.lines},
                shipment_ids=[],
                issued_at=AT,
            )
        except ValueError:
            # only an invoice whose every line rounds to nothing is refused
            assert all(quantize(q * Decimal(price), "EUR") == 0 for _, q, price in lines)
            return
        invoice = invoicing.numbered(draft, self.sequence, DEMO)
        self._post(ledger.for_invoice(invoice))
        self.invoices[invoice.invoice_id] = invoice

    @precondition(lambda self: bool(self._creditable()))
    @rule(data=st.data())
    def credit(self, data: st.DataObject) -> None:
        invoice = data.draw(st.sampled_from(self._creditable()))
        quantities: dict[int, Decimal] | None = None
        if data.draw(st.booleans()):
            quantities = {}
            for line in invoice.lines:
                left = line.quantity - invoice.credited_quantities.get(line.line_no, Decimal(0))
                halves = int(left * 2)
                if halves and data.draw(st.booleans()):
                    quantities[line.line_no] = Decimal(data.draw(st.integers(1, halves))) / 2
            quantities = quantities or None
        try:
            note = invoicing.credit_note(
                invoice,
                credit_note_id=self._next("cn"),
                quantities=quantities,
                reason="property",
                issued_at=AT,
            )
        except CreditError:
            assert quantities is not None  # only a part worth nothing is refused
            return
        note = invoicing.numbered(note, self.sequence, DEMO)
        open_before = invoice.amount_due
        self._post(ledger.for_credit_note(note, open_before))
        self.held[invoice.customer_id] += note.total - min(note.total, open_before)
        self.invoices[invoice.invoice_id] = invoicing.apply_credit(invoice, note)

    @rule(customer_id=st.sampled_from(sorted(CUSTOMERS)), amount=cents)
    def receive_payment(self, customer_id: str, amount: Decimal) -> None:
        self._post(ledger.for_payment(customer_id, "EUR", amount, self._next("pay"), AT))
        self.held[customer_id] += amount

    @precondition(
        lambda self: any(
            inv.amount_due > 0 and self.held[inv.customer_id] > 0 for inv in self.invoices.values()
        )
    )
    @rule(data=st.data())
    def allocate(self, data: st.DataObject) -> None:
        candidates = [
            inv
            for inv in self.invoices.values()
            if inv.amount_due > 0 and self.held[inv.customer_id] > 0
        ]
        invoice = data.draw(st.sampled_from(candidates))
        held = self.held[invoice.customer_id]
        ceiling = min(invoice.amount_due, held)
        amount = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=ceiling, places=2))
        room = min(invoice.amount_due - amount, invoice.discount_amount)
        discount = (
            data.draw(st.decimals(min_value=Decimal(0), max_value=room, places=2))
            if room > 0
            else Decimal(0)
        )
        after = invoicing.record_payment(invoice, amount, discount=discount)
        self._post(
            ledger.for_allocation(
                invoice.customer_id,
                "EUR",
                invoice.invoice_id,
                amount,
                discount,
                self._next("alc"),
                AT,
            )
        )
        self.held[invoice.customer_id] -= amount
        self.invoices[invoice.invoice_id] = after

    @invariant()
    def debits_equal_credits(self) -> None:
        postings = [posting for entry in self.entries for posting in entry.postings]
        assert sum(p.debit for p in postings) == sum(p.credit for p in postings)

    @invariant()
    def each_customer_owes_what_its_invoices_say_less_what_we_hold(self) -> None:
        for customer_id in CUSTOMERS:
            entries = [e for e in self.entries if e.customer_id == customer_id]
            due = sum(
                (
                    inv.amount_due
                    for inv in self.invoices.values()
                    if inv.customer_id == customer_id
                ),
                Decimal(0),
            )
            assert ledger.customer_balance(entries) == due - self.held[customer_id]
            assert self.held[customer_id] >= 0

    @invariant()
    def each_invoice_is_due_its_total_less_credits_and_payments(self) -> None:
        for inv in self.invoices.values():
            settled = inv.amount_credited + inv.amount_paid + inv.amount_discounted
            assert inv.amount_due == max(Decimal(0), inv.total - settled)
            assert inv.amount_credited <= inv.total  # never a cent credited too much
            fully_credited = all(
                inv.credited_quantities.get(line.line_no) == line.quantity for line in inv.lines
            )
            if fully_credited:  # nor a cent left behind, in total or in any tax group
                assert inv.status is InvoiceStatus.CREDITED
                assert inv.amount_credited == inv.total
                assert inv.credited_taxes == inv.taxes
            if inv.status is InvoiceStatus.CREDITED:
                assert inv.amount_credited == inv.total


Books.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestBooks = Books.TestCase

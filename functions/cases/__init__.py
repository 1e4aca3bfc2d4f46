"""Customer cases: questions, requests and disputes (docs/cases.md)."""

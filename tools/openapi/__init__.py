"""openapi.yaml, generated: the routes the app declares, the schemas its pydantic models give,
and the authored text of tools/openapi/overlay.yaml. ``make openapi`` writes it;
``python -m tools.openapi --check`` exits 1 when the committed file differs."""

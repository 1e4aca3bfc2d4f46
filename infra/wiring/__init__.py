"""Fragments the packaging merge applies to Chalice's generated SAM template."""

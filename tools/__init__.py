"""Development tools run from the repository (never packaged for Lambda)."""

"""The local stack: the same resources.yaml deployed into moto, the app, and an event pump."""

"""The service itself: its health."""

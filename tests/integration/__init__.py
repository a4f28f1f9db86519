"""Tests against real services, skipped when the service is not configured."""

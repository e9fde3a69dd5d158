"""Tests mirror core/."""

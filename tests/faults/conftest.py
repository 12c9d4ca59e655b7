"""Fixtures shared by the fault tests."""

from __future__ import annotations

import threading

import pytest


@pytest.fixture
def release():
    """Frees the stuck user functions at the end (their threads are abandoned, not
    killed: Python cannot stop a thread)."""
    event = threading.Event()
    yield event
    event.set()

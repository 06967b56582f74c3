"""`app.state`: Starlette's State behaviour, with attributes found by the normal lookup."""

from __future__ import annotations

import pytest
from starlette.datastructures import State

from example_service.app import create_app
from example_service.settings import Settings
from example_service.state import AppState


def test_behaves_as_starlette_state() -> None:
    state = AppState()
    assert isinstance(state, State)
    state.limiter = "a"
    state["tokens"] = "b"
    assert (state.limiter, state["limiter"], state.tokens) == ("a", "a", "b")
    assert list(state) == ["limiter", "tokens"]
    assert len(state) == 2
    del state.limiter
    del state["tokens"]
    assert len(state) == 0
    with pytest.raises(AttributeError, match="no attribute 'limiter'"):
        _ = state.limiter
    with pytest.raises(KeyError):
        _ = state["limiter"]


def test_reads_do_not_go_through_getattr(monkeypatch: pytest.MonkeyPatch) -> None:
    # Starlette's State answers every read from __getattr__, after a failed normal lookup that
    # builds an AttributeError: ~0.8 us a read. Here __getattr__ is reached only for a miss.
    calls: list[str] = []
    original = State.__getattr__

    def counting(self: State, key: str) -> object:
        calls.append(key)
        return original(self, key)

    monkeypatch.setattr(State, "__getattr__", counting)
    app = create_app(Settings())
    assert isinstance(app.state, AppState)
    assert app.state.settings is not None
    assert app.state.limiter is not None
    assert calls == []
    with pytest.raises(AttributeError):
        _ = app.state.missing
    assert calls == ["missing"]

"""Registering processors from the console and from the hot-reloaded scripts folder."""

from app.scripting.decorator import (
    current_registry,
    processor,
    register,
    set_current_registry,
    set_parameter,
    unregister,
)
from app.scripting.scripts_folder import ScriptsFolder, ScriptState

__all__ = [
    "ScriptState",
    "ScriptsFolder",
    "current_registry",
    "processor",
    "register",
    "set_current_registry",
    "set_parameter",
    "unregister",
]

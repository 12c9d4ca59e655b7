"""``Core()``: the current microscope's core under pycro-manager's snake_case names.

pycro-manager's Python backend hands scripts a core whose methods are renamed from
Micro-Manager's camelCase (``setExposure``) to snake_case (``set_exposure``). This
wrapper gives the same names over the core Scopeflow is using, so a script's
``core.set_exposure(10)`` changes the microscope the app shows; the camelCase names
and pymmcore-plus's own methods keep working on it too.
"""

from __future__ import annotations

import re
from typing import Any

from pymmcore_plus import CMMCorePlus

_WORD_BOUNDARY = re.compile(r"(.)([A-Z][a-z]+)")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")


def snake_case(name: str) -> str:
    """``setROI`` -> ``set_roi``, ``getXYPosition`` -> ``get_xy_position``."""
    return _LOWER_UPPER.sub(r"\1_\2", _WORD_BOUNDARY.sub(r"\1_\2", name)).lower()


_NAMES_BY_TYPE: dict[type, dict[str, str]] = {}


def _camel_names(core_type: type) -> dict[str, str]:
    """snake_case name -> the core's camelCase name, for every public method."""
    names = _NAMES_BY_TYPE.get(core_type)
    if names is None:
        names = {}
        for name in dir(core_type):
            if not name.startswith("_") and not name.islower():
                names.setdefault(snake_case(name), name)
        _NAMES_BY_TYPE[core_type] = names
    return names


class Core:
    """The current microscope's core, as pycro-manager's ``Core()`` returns it.

    ``Core()`` wraps the core Scopeflow uses (the app's microscope, or the simulated
    one in a plain script); ``Core(core)`` wraps another. pycro-manager's connection
    settings (``port``, ``timeout``, ``convert_camel_case``, ``debug``) are accepted
    and have no effect: there is no Java bridge to connect to.
    """

    def __init__(self, core: CMMCorePlus | None = None, **connection_settings: Any) -> None:
        if core is None:
            from app.microscope.session import current_core

            core = current_core()
        object.__setattr__(self, "_core", core)

    @property
    def core(self) -> CMMCorePlus:
        """The pymmcore-plus core itself."""
        return self._core

    def __getattr__(self, name: str) -> Any:
        core = self._core
        try:
            return getattr(core, name)
        except AttributeError:
            camel = _camel_names(type(core)).get(name)
            if camel is None:
                raise AttributeError(
                    f"The core has no method {name!r} (nor a camelCase one that "
                    f"{name!r} is the snake_case name of)"
                ) from None
            return getattr(core, camel)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._core, name, value)

    def __dir__(self) -> list[str]:
        return sorted({*dir(self._core), *_camel_names(type(self._core))})

    def __repr__(self) -> str:
        return f"Core({self._core!r})"

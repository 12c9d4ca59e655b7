"""The small form of one processor's tunable parameters, built by magicgui.

One field per parameter (app/processing/parameters.py finds them in the signature):
a check box for ``bool``, a drop-down for an ``Enum`` or a ``Literal``, a file field
for a ``Path``, a spin box or slider for a number with limits
(``Annotated[float, {"min": 0, "max": 10}]``), and a text field for other numbers
and strings, applied when Enter is pressed or the field is left. Every value goes
through the processor's own check; one that does not fit is refused with a message
under the form and the field shows the value still in use.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Callable
from typing import Any

from magicgui.widgets import Container, LineEdit, create_widget
from magicgui.widgets.bases import ValueWidget
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QGroupBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.processing.parameters import (
    ParameterError,
    ParameterSnapshot,
    ParameterSpec,
    ProcessorParameters,
)

logger = logging.getLogger(__name__)

#: ``apply(parameter, value)`` sets a value (the registry's ``set_parameter``)
Apply = Callable[[str, Any], Any]


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # 0.001, 1e-06: every digit the processor gets
    return str(value)


def _typed_as_text(spec: ParameterSpec) -> bool:
    """A text field that the user types into, applied on Enter (numbers without
    limits, strings). Numbers with limits get magicgui's spin box."""
    if spec.kind is str:
        return True
    if spec.kind in (int, float):
        has_limits = "min" in spec.options and "max" in spec.options
        return spec.optional or not (has_limits or "widget_type" in spec.options)
    return False


def _hint(spec: ParameterSpec) -> str:
    default = _as_text(spec.default) or "None"
    return f"{spec.name}: {spec.type_name} (default {default})"


def make_widget(spec: ParameterSpec, value: Any) -> ValueWidget:
    """The magicgui widget of one parameter, showing ``value``."""
    if _typed_as_text(spec):
        return LineEdit(value=_as_text(value), name=spec.name)
    options = dict(spec.options)
    widget_type = options.pop("widget_type", None)
    annotation: Any = spec.annotation
    if spec.kind is typing.Literal:
        annotation = typing.Literal[spec.choices]
    if spec.optional:
        annotation = annotation | None
    widget = create_widget(
        value=value,
        annotation=annotation,
        name=spec.name,
        widget_type=widget_type,
        options=options,
    )
    if not (hasattr(widget, "value") and hasattr(widget, "changed")):
        raise TypeError(f"magicgui gave no value field for {spec.name}: {type(widget).__name__}")
    return typing.cast(ValueWidget, widget)  # FileEdit is a container with a value


class ParameterForm(QGroupBox):
    """The parameters of one processor, titled with its name.

    Fields apply their value through ``apply`` (from the next frame); ``sync`` shows
    values set elsewhere (the console, a reloaded script), called on the panel's timer.
    """

    #: its message appeared or went: its height changed
    resized = pyqtSignal()

    def __init__(
        self,
        processor_name: str,
        parameters: ProcessorParameters,
        apply: Apply,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(processor_name, parent)
        self.processor_name = processor_name
        self.parameters = parameters
        self._apply = apply
        self._shown: ParameterSnapshot = parameters.snapshot
        values = self._shown.values
        self.widgets: dict[str, ValueWidget] = {}
        for spec in parameters.specs.values():
            try:
                widget = make_widget(spec, values[spec.name])
            except Exception:  # a field magicgui cannot make: typed text, checked the same
                logger.warning("No form field for %s.%s", processor_name, spec.name, exc_info=True)
                widget = LineEdit(value=_as_text(values[spec.name]), name=spec.name)
            widget.tooltip = _hint(spec) + (
                "; Enter applies it" if isinstance(widget, LineEdit) else ""
            )
            self.widgets[spec.name] = widget
            if isinstance(widget, LineEdit):
                line: QLineEdit = widget.native
                line.editingFinished.connect(lambda name=spec.name: self._typed(name))
            else:
                widget.changed.connect(lambda value, name=spec.name: self.set_value(name, value))
        self.container: Container[ValueWidget] = Container(labels=True)
        self.container.extend(self.widgets.values())  # added once made: labels line up
        self.container.margins = (0, 0, 0, 0)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d03030;")
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(self.container.native)
        layout.addWidget(self.message)

    def field(self, name: str) -> ValueWidget:
        return self.widgets[name]

    def _typed(self, name: str) -> None:
        line: QLineEdit = self.widgets[name].native
        if not line.isModified():
            return  # focus left without a change: nothing to apply
        line.setModified(False)
        self.set_value(name, line.text())

    def set_value(self, name: str, value: Any) -> bool:
        """Apply ``value`` as the user gave it; False (and a message) if refused."""
        try:
            stored = self._apply(name, value)
        except ParameterError as exc:
            kept = _as_text(self.parameters[name]) or "None"
            self.show_message(f"Refused: {_without_owner(exc, self.processor_name)}. Kept {kept}.")
            self._show(name, self.parameters[name])
            return False
        except Exception as exc:  # never a crash from a form field
            logger.exception("Setting %s.%s failed", self.processor_name, name)
            self.show_message(f"Could not set {name}: {exc}")
            return False
        self.show_message("")
        self._show(name, stored)
        self._shown = self.parameters.snapshot
        return True

    def show_message(self, text: str) -> None:
        if text == self.message.text():
            return
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.resized.emit()

    def sync(self) -> None:
        """Show the current values if they changed elsewhere (a field being typed into
        keeps what is typed)."""
        snapshot = self.parameters.snapshot
        if snapshot is self._shown:
            return
        self._shown = snapshot
        for name, value in snapshot.values.items():
            native = self.widgets[name].native
            if isinstance(native, QLineEdit) and native.hasFocus() and native.isModified():
                continue
            self._show(name, value)

    def _show(self, name: str, value: Any) -> None:
        widget = self.widgets[name]
        shown = _as_text(value) if isinstance(widget, LineEdit) else value
        with widget.changed.blocked():
            if widget.value != shown:
                widget.value = shown


def _without_owner(exc: ParameterError, owner: str) -> str:
    """The message without the ``name: `` the registry puts first (the form's title
    already says whose parameter it is)."""
    text = str(exc)
    prefix = f"{owner}: "
    return text[len(prefix) :] if text.startswith(prefix) else text

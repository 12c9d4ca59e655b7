"""The Qt desktop application, the only package that imports Qt widgets.

Its rooms, lowest first (a room imports only from rooms below it; the contracts in
``pyproject.toml`` check it): ``common`` (shared pieces and seams), ``display`` (the
viewer and its tools), then side by side ``acquiring``, ``microscope``, ``processors``
and ``files``, then ``shell`` (the main window, which assembles them), and ``bench``
(the window's benchmarks). ``docs/architecture.md`` has the map.
"""

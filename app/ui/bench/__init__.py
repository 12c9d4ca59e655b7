"""The window's benchmarks (``scopeflow bench gui``, ``soak``, ``open``, ``map``): they
build the whole window, as the entry point does, and measure it."""

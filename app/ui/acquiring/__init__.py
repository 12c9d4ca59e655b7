"""Acquiring from the window: the Acquisition panel (plan, positions, grid), the
controller that runs the panel's acquisition on worker threads, the acquisitions
started elsewhere that the panel follows, and Explore."""

"""The microscope and its devices: the Microscope panel, Snap and Live, the device
property browser, presets, pixel size, camera ROI, the hardware wizard, the
Micro-Manager installation, and swapping configurations."""

"""The viewer and its tools: the image view, its sliders, channel strip, scale bar,
measuring tools and processors' named views; the dataset browser that feeds it and
the router that hands it frames; the tiled map's view. Imports nothing of acquiring,
the microscope, processors or files."""

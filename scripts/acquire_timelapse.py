"""An acquisition script: run it with Run in the Scripts panel (or `scopeflow run`).

It only runs as __main__, so that loading the scripts folder does not start it.
"""

from app import Acquisition, data_folder, multi_d_acquisition_events

if __name__ == "__main__":
    # the data folder chosen in the window, not a folder relative to where it was started
    with Acquisition(directory=data_folder(), name="timelapse") as acq:
        acq.acquire(
            multi_d_acquisition_events(
                num_time_points=10,
                time_interval_s=0.5,
                channel_group="Channel",
                channels=["DAPI", "FITC"],
                channel_exposures_ms=[10, 30],
            )
        )
    print("Saved", acq.counts.saved, "images in", acq.dataset_path)

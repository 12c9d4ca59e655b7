"""Images kept in memory are copied into memory touched ahead of need, which comes back
for the next acquisition when a dataset is dropped (#21)."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import numpy as np
import psutil
import pytest

from app import Acquisition, multi_d_acquisition_events
from app.storage.ram_sink import default_ram_limit_bytes
from app.storage.warm_memory import RAM_SHARE, WarmMemory, filled_by, set_warm_memory

BLOCK = 1024 * 1024  # small blocks: a test's few frames fill several


def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.01)


def test_pieces_are_aligned_apart_and_come_back_when_dropped():
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=8 * BLOCK)
    reservation = memory.reserve(4 * BLOCK)
    pieces = [reservation.take(1000) for _ in range(5)]
    assert all(piece.ctypes.data % 64 == 0 for piece in pieces)
    for n, piece in enumerate(pieces):
        piece[:] = n
    assert [int(piece[0]) for piece in pieces] == [0, 1, 2, 3, 4]  # none overlaps
    reservation.close()
    del pieces, piece
    gc.collect()
    _wait_for(lambda: memory.free_bytes >= BLOCK)  # the block is free again


def test_a_writer_never_waits_for_warm_blocks():
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=0)
    reservation = memory.reserve(0)  # nothing made ahead
    piece = reservation.take(BLOCK // 2)
    assert memory.cold_blocks == 1 and piece.nbytes == BLOCK // 2
    big = reservation.take(3 * BLOCK)  # larger than a block: its own
    assert big.nbytes == 3 * BLOCK and memory.cold_blocks == 2
    reservation.close()


def test_blocks_are_made_ahead_and_what_is_not_retained_goes():
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=2 * BLOCK)
    reservation = memory.reserve(6 * BLOCK)
    _wait_for(lambda: memory.free_bytes >= 5 * BLOCK)  # touched ahead of the writer
    reservation.close()
    assert memory.free_bytes <= 2 * BLOCK  # beyond what is retained, given back


def test_blocks_are_made_ahead_only_for_what_is_known_to_come():
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=16 * BLOCK, ahead_bytes=8 * BLOCK)
    reservation = memory.reserve(100 * BLOCK)
    reservation.expect(0)
    time.sleep(0.2)
    assert memory.free_bytes == 0  # nothing known to come: nothing touched
    reservation.expect(3 * BLOCK)
    _wait_for(lambda: memory.free_bytes == 3 * BLOCK)
    piece = reservation.take(BLOCK // 2)  # the first block's other half covers the rest
    time.sleep(0.2)
    assert memory.free_bytes == 2 * BLOCK
    reservation.expect(None)  # not known: up to the budget, within ahead_bytes
    _wait_for(lambda: memory.free_bytes >= 7 * BLOCK)
    reservation.close()
    del piece


def test_the_end_of_what_is_coming_and_what_may_follow_are_made_ready_too():
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=16 * BLOCK, ahead_bytes=8 * BLOCK)
    reservation = memory.reserve(100 * BLOCK, coming=BLOCK * 5 // 2)  # 2.5 blocks
    _wait_for(lambda: memory.free_bytes == 3 * BLOCK)  # the half block's block too
    reservation.close()
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=16 * BLOCK, ahead_bytes=8 * BLOCK)
    small = memory.reserve(100 * BLOCK, coming=0)
    small.expect(0, more_may_come=True)  # nothing counted, another acquire() may come
    _wait_for(lambda: memory.free_bytes >= BLOCK)
    time.sleep(0.2)
    assert memory.free_bytes == BLOCK  # one block ahead, no more
    small.close()


def test_the_next_acquisition_of_the_same_size_touches_no_new_memory():
    """Memory made ready for frames that never come costs a core's time while the
    frames that do are read: the engine says how many are coming (#21)."""
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=64 * BLOCK)  # made ahead
    set_warm_memory(memory)
    try:
        from app.microscope import SimulatedCameraSettings, load_microscope

        core = load_microscope(camera=SimulatedCameraSettings(width=256, height=256))
        _acquire_in_memory(core, 40)  # 40 x 128 kB: 5 blocks (8 frames each)
        _wait_for(lambda: memory.free_bytes >= 5 * BLOCK)
        made = memory.blocks_ahead + memory.cold_blocks
        assert memory.blocks_ahead >= 1  # made ahead of the engine: it said what comes
        assert 5 <= made <= 6  # the frames' blocks, and no more ready when they ended
        for _ in range(2):
            _acquire_in_memory(core, 40)
            assert memory.blocks_ahead + memory.cold_blocks == made
    finally:
        set_warm_memory(None)


def test_an_acquisition_fed_one_event_at_a_time_gets_warm_memory_ahead():
    """Forty ``acquire`` calls of one event each: the engine knows one frame at a time,
    and that more may follow: the toucher stays a block ahead of it."""
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=64 * BLOCK)
    set_warm_memory(memory)
    try:
        from app.microscope import SimulatedCameraSettings, load_microscope

        core = load_microscope(camera=SimulatedCameraSettings(width=256, height=256))
        with Acquisition(core=core, show_display=False) as acq:
            for t in range(40):  # 128 kB each: 5 blocks
                acq.acquire({"axes": {"time": t}})
        assert acq.get_dataset().read_image(time=39).shape == (256, 256)
        assert memory.cold_blocks <= 1 and memory.blocks_ahead >= 4
    finally:
        set_warm_memory(None)


def test_memory_made_ready_before_an_acquisition_is_what_the_first_one_uses():
    """The first acquisition of a process found no warm memory and ran at half speed
    on a machine whose fresh memory is slow: ``make_ready`` touches it beforehand,
    more than is retained between acquisitions, and none of it goes when one starts."""
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=BLOCK)
    set_warm_memory(memory)
    try:
        from app.microscope import SimulatedCameraSettings, load_microscope

        core = load_microscope(camera=SimulatedCameraSettings(width=256, height=256))
        assert memory.make_ready(5 * BLOCK) == 5 * BLOCK  # 40 x 128 kB
        assert memory.wait_ready(10.0)
        assert memory.free_bytes >= 5 * BLOCK and memory.cold_blocks == 0
        made = memory.blocks_ahead
        _acquire_in_memory(core, 40)
        assert memory.cold_blocks == 0  # every frame went into memory made ready
        # the request ended with it: nothing more is made, and its thread ends
        _wait_for(lambda: not memory.toucher_alive)
        assert memory.blocks_ahead - made <= 1
    finally:
        memory.make_ready(0)
        set_warm_memory(None)


def test_memory_made_ready_is_what_was_asked_and_less_asked_gives_the_rest_back():
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=BLOCK)
    assert memory.make_ready(4 * BLOCK) == 4 * BLOCK
    assert memory.make_ready(4 * BLOCK) == 4 * BLOCK  # asked again: the same, once
    assert memory.wait_ready(10.0) and memory.free_bytes == 4 * BLOCK
    time.sleep(0.1)
    assert memory.free_bytes == 4 * BLOCK  # and no more is touched
    assert memory.make_ready(2 * BLOCK) == 2 * BLOCK
    assert memory.free_bytes == 2 * BLOCK  # the rest given back at once
    assert memory.make_ready(0) == 0
    _wait_for(lambda: not memory.toucher_alive)
    assert memory.free_bytes == BLOCK  # what is retained between acquisitions stays


def test_memory_made_ready_is_at_most_what_an_acquisition_may_take():
    """No more than a RAM acquisition's default limit: half the memory available."""
    pages = _StuckPages()  # nothing is touched: only the cap is looked at
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=0, pages=pages)
    try:
        half = memory.available_bytes() * RAM_SHARE
        assert memory.make_ready(10**15) == pytest.approx(half, rel=0.1)
        assert default_ram_limit_bytes() == pytest.approx(half, rel=0.1)
    finally:
        memory.make_ready(0)
        pages.release.set()


def test_waiting_for_memory_made_ready_ends_at_its_timeout():
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=0)
    assert memory.make_ready(0) == 0 and memory.wait_ready(0.0)  # nothing asked
    pages = _StuckPages()
    slow = WarmMemory(block_bytes=BLOCK, retained_bytes=8 * BLOCK, pages=pages)
    slow.make_ready(BLOCK)
    start = time.monotonic()
    assert not slow.wait_ready(0.2)
    assert time.monotonic() - start < 5
    slow.make_ready(0)
    pages.release.set()


def test_memory_no_image_uses_counts_as_available_for_images():
    """Memory made ready is for images: a RAM acquisition's default limit counts it."""
    block = 16 * 1024**2
    memory = WarmMemory(block_bytes=block, retained_bytes=8 * block)
    set_warm_memory(memory)
    try:
        memory.make_ready(8 * block)
        assert memory.wait_ready(10.0)
        memory.make_ready(0)  # kept, as retained
        limit, system = default_ram_limit_bytes(), psutil.virtual_memory().available
        assert limit == pytest.approx((system + 8 * block) * RAM_SHARE, abs=block)
    finally:
        set_warm_memory(None)


def test_memory_let_go_while_an_acquisition_runs_is_kept_for_it():
    """A dataset dropped as the next acquisition starts (the window's second Start)
    gives its blocks to that acquisition, not back to the system to be touched again."""
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=0, ahead_bytes=0)
    first = memory.reserve(4 * BLOCK, coming=4 * BLOCK)
    pieces = [first.take(BLOCK) for _ in range(4)]  # a block each
    first.close()
    assert memory.cold_blocks == 4
    second = memory.reserve(4 * BLOCK, coming=4 * BLOCK)
    del pieces
    gc.collect()
    assert memory.free_bytes == 4 * BLOCK  # kept: the second wants as much
    kept = [second.take(BLOCK) for _ in range(4)]
    assert memory.cold_blocks == 4 and len(kept) == 4  # none made anew
    second.close()


def test_memory_made_ready_for_part_of_a_block_stops_at_the_next_whole_block():
    """Asked for 4.74 GB, the toucher made block after block for two minutes: each
    block past what was asked was given back and touched again."""
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=0)
    memory.make_ready(2 * BLOCK + 1)
    assert memory.wait_ready(10.0)
    time.sleep(0.2)
    assert memory.blocks_ahead == 3 and memory.free_bytes == 3 * BLOCK
    memory.make_ready(0)


def test_a_request_is_used_up_by_the_acquisition_that_starts_after_it_only():
    """An acquisition already running when memory is made ready (a script's, while the
    window's plan is set) leaves the request for the next one."""
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=0)
    running = memory.reserve(BLOCK, coming=0)
    memory.make_ready(2 * BLOCK)
    running.close()
    assert memory.ready_bytes == 2 * BLOCK  # still asked for
    assert memory.wait_ready(10.0) and memory.free_bytes == 2 * BLOCK
    sink, camera = memory.reserve(2 * BLOCK), memory.reserve(2 * BLOCK)  # one acquisition's
    sink.close()
    assert memory.ready_bytes == 2 * BLOCK  # its other reservation runs
    camera.close()
    assert memory.ready_bytes == 0  # used up: given back beyond what is retained
    assert memory.free_bytes == 0
    _wait_for(lambda: not memory.toucher_alive)


def test_a_toucher_that_fails_is_started_again_by_the_next_request(caplog):
    pages = _FailingOnce()
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=0, pages=pages)
    memory.make_ready(BLOCK)
    _wait_for(lambda: not memory.toucher_alive)  # it ended, and says why
    assert "no longer touched ahead" in caplog.text
    memory.make_ready(2 * BLOCK)
    assert memory.wait_ready(10.0) and memory.free_bytes == 2 * BLOCK
    memory.make_ready(0)


class _FailingOnce:
    """Fresh pages refused once in a way the toucher does not expect."""

    def __init__(self):
        self.failed = False

    def block(self, nbytes, may_try=False):
        if not self.failed:
            self.failed = True
            raise OSError("madvise: invalid argument")
        return np.zeros(nbytes, np.uint8)


class _StuckPages:
    """Fresh pages that never come (until released): a toucher that cannot keep up."""

    def __init__(self):
        self.release = threading.Event()

    def block(self, nbytes, may_try=False):
        self.release.wait(10)
        return np.zeros(nbytes, np.uint8)


def test_prepare_memory_makes_the_process_memory_ready_and_refuses_nonsense():
    from app import prepare_memory

    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=4 * BLOCK)
    set_warm_memory(memory)
    try:
        ready = prepare_memory(4 * BLOCK / 1e9, timeout_s=10)
        assert ready == pytest.approx(4 * BLOCK / 1e9)
        assert memory.free_bytes == 4 * BLOCK
        refused = [(-1, 0), (float("nan"), 0), ("2", 0), (1, float("inf")), (True, 0)]
        refused += [(1e300, 0), (10**400, 0), (None, 0), (1, -1)]
        for gigabytes, timeout_s in refused:
            with pytest.raises(ValueError, match="prepare_memory"):
                prepare_memory(gigabytes, timeout_s)
        assert memory.ready_bytes == 4 * BLOCK  # a refused call changes nothing
        assert prepare_memory(np.float32(BLOCK / 1e9), np.int64(0)) > 0  # numpy's numbers
        assert memory.ready_bytes == pytest.approx(BLOCK, rel=1e-6)
        assert prepare_memory(0) == pytest.approx(4 * BLOCK / 1e9)  # given up, kept
        assert memory.ready_bytes == 0
        _wait_for(lambda: not memory.toucher_alive)
    finally:
        memory.make_ready(0)
        set_warm_memory(None)


@pytest.fixture
def memory():
    # nothing made ahead: a block used is either given back before, or made cold
    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=64 * BLOCK, ahead_bytes=0)
    set_warm_memory(memory)
    yield memory
    set_warm_memory(None)


def _acquire_in_memory(core, frames: int, processor=None) -> Acquisition:
    """``frames`` time points kept in memory, through ``processor`` if given."""
    extra = {} if processor is None else {"image_process_fn": processor}
    with Acquisition(core=core, show_display=False, **extra) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=frames))
    return acq


def test_an_acquisition_kept_in_memory_reads_back_as_acquired(core, memory):
    seen = {}

    def keep_copy(image, metadata):
        seen[metadata["Axes"]["time"]] = image.copy()
        return image, metadata

    dataset = _acquire_in_memory(core, 30, keep_copy).get_dataset()
    for t in range(30):
        np.testing.assert_array_equal(dataset.read_image(time=t), seen[t])
    assert not dataset.read_image(time=0).flags.writeable


def test_the_next_acquisition_reuses_the_memory_of_a_dropped_dataset(core, memory):
    acq = _acquire_in_memory(core, 30)  # 30 x 24 kB: one block, made cold
    assert memory.cold_blocks == 1 and memory.free_bytes == 0
    del acq
    gc.collect()
    _wait_for(lambda: memory.free_bytes == BLOCK)  # given back when the dataset went
    again = _acquire_in_memory(core, 30)
    assert memory.cold_blocks == 1 and memory.free_bytes == 0  # that block, warm
    assert again.get_dataset().read_image(time=29).shape == (96, 128)


def test_an_acquisition_let_go_frees_its_images_at_once(core, memory):
    """No cycle holds it: its memory comes back without waiting for the garbage
    collector (gigabytes, kept after the user had let go of them)."""
    gc.disable()
    try:
        acq = _acquire_in_memory(core, 30)
        dataset = weakref.ref(acq.get_dataset())
        del acq
        assert dataset() is None
        _wait_for(lambda: memory.free_bytes == BLOCK)
    finally:
        gc.enable()


def test_an_image_freed_by_a_collection_inside_warm_memory_never_hangs():
    """An image's memory comes back in its finalizer, which runs wherever a garbage
    collection happens: also inside one of the warm memory's own locked sections, on
    the same thread (the suite hung once: a collection while ``reserve`` started its
    thread). Made certain here by letting the image go while that thread holds the
    warm memory's lock, as the collection did."""
    import threading

    memory = WarmMemory(block_bytes=BLOCK, retained_bytes=8 * BLOCK)
    reservation = memory.reserve(4 * BLOCK)
    image = reservation.take(1000)
    reservation.close()
    done = []

    def let_go_inside_a_locked_section() -> None:
        nonlocal image
        with memory._lock:  # white-box: where the collection happened to run
            del image  # its finalizer runs here, on this thread
        done.append(True)

    worker = threading.Thread(target=let_go_inside_a_locked_section, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert done, "letting an image go inside a locked section hung"
    _wait_for(lambda: memory.free_bytes >= BLOCK)  # settled by the next locked section


def test_a_frame_passed_on_is_kept_where_the_engine_read_it(core, memory):
    """The engine reads each frame into the RAM storage's warm memory (as the least a
    keeper does, on the camera's thread); a processor that passes it on, changed in
    place or not, has it kept there, not copied again on the saving thread (#21)."""
    seen = {}

    def brighten(image, metadata):
        assert image.flags.writeable  # pycro-manager's processors change pixels in place
        image += 1
        seen[metadata["Axes"]["time"]] = (image.ctypes.data, image.copy())
        return image, metadata

    dataset = _acquire_in_memory(core, 5, brighten).get_dataset()
    for t, (address, pixels) in seen.items():
        kept = dataset.read_image(time=t)
        assert kept.ctypes.data == address  # the very memory the processor changed
        assert filled_by(kept) is memory
        np.testing.assert_array_equal(kept, pixels)


def test_a_new_array_or_a_crop_is_copied_into_the_storage(core, memory):
    """What is not a whole piece of that memory is copied into it: a new array, or a
    crop of the frame (kept as it is, it would hold the whole frame's memory)."""
    made = {}

    def crop_or_new(image, metadata):
        t = metadata["Axes"]["time"]
        out = image[10:40, 20:60] if t % 2 else image.astype(np.uint16) // 2
        made[t] = (out.ctypes.data, out.copy())
        return out, metadata

    dataset = _acquire_in_memory(core, 4, crop_or_new).get_dataset()
    for t, (address, pixels) in made.items():
        kept = dataset.read_image(time=t)
        assert kept.ctypes.data != address and filled_by(kept) is memory
        np.testing.assert_array_equal(kept, pixels)


@pytest.mark.parametrize(
    "dtype",
    [
        np.dtype(np.uint8),
        np.dtype(">u2"),
        np.dtype([("r", "u1"), ("g", "u1"), ("b", "u1")]),
        np.dtype([("a", "u1"), ("b", "<f8")], align=True),  # padded: not in its descr
        np.dtype({"names": ["x"], "formats": ["<u2"], "offsets": [4], "itemsize": 8}),
    ],
)
def test_an_image_of_any_dtype_is_copied_in_as_it_is(dtype):
    """Pieces describe the image itself (dtype and shape), or are its bytes seen as it
    when an array interface cannot describe the dtype (records with padding)."""
    memory = WarmMemory(block_bytes=BLOCK)
    reservation = memory.reserve(BLOCK)
    image = np.zeros((3, 4, 2), dtype)
    values = np.arange(image.size).reshape(image.shape) % 200
    for field in dtype.names or (None,):
        if field is None:
            image[...] = values
        else:
            image[field] = values
    kept = reservation.copy_of(image)
    assert kept.dtype == dtype and kept.shape == image.shape
    assert (kept == image).all()  # every field (padding bytes are not the image's)
    assert filled_by(kept) is memory
    reservation.close()

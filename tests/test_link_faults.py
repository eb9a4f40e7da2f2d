"""Link faults against a real host board: a corrupted frame is retransmitted, garbage is survived."""

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.device.build import build_for_model
from edgeleak.device.model_dir import load_model_dir
from edgeleak.firmware.runners import host_board
from edgeleak.link.client import DeviceClient, open_serial


class CorruptingPort:
    """A serial port that flips one byte in the first ``count`` frames it writes (a noisy line)."""

    def __init__(self, port, count: int) -> None:
        self._port = port
        self.remaining = count

    def write(self, data: bytes) -> int:
        if self.remaining and len(data) > 6:
            self.remaining -= 1
            data = bytearray(data)
            data[5] = data[5] ^ 0x5A or 0x01  # stays non-zero so the frame still ends where it ended
            data = bytes(data)
        return self._port.write(data)

    def __getattr__(self, name):
        return getattr(self._port, name)


@pytest.fixture(scope="module")
def host_url(zoo_models):
    result, _ = build_for_model(load_boards().get("host"), zoo_models["imu_cnn"])
    with host_board(result.program) as url:
        yield url


def test_a_frame_that_fails_its_crc_is_resent(host_url, zoo_models, basic_motions):
    model = load_model_dir(zoo_models["imu_cnn"])
    x = model.quantize(basic_motions.x_test[:1])[0]
    with DeviceClient(open_serial(host_url), timeout=10) as clean:
        expected = clean.infer(x.tobytes()).output
    port = CorruptingPort(open_serial(host_url), count=2)
    with DeviceClient(port, timeout=10, retries=3) as client:
        assert client.infer(x.tobytes()).output == expected
        assert client.counters.retransmissions == 2 and port.remaining == 0


def test_garbage_on_the_line_does_not_confuse_the_device(host_url):
    serial_port = open_serial(host_url)
    serial_port.write(bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)) + b"\x00")
    with DeviceClient(serial_port, timeout=10) as client:
        info = client.hello()
        assert info.board == "host" and info.protocol_version == 2

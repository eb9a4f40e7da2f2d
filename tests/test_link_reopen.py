"""A USB board that resets leaves the bus and comes back under the same name (a /dev/serial/by-id link) after a
while: the host reopens the port, waits out the boot, and redoes the round, with nothing mixed into the capture.

Simulated with host boards behind a symlink, as udev's by-id links are: the first board's program ends (its
pseudo-terminal vanishes), and a second one appears behind the same link half a second later."""

import threading
import time
import types

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.device.build import build_for_model
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import link_policy
from edgeleak.errors import EdgeleakError
from edgeleak.firmware.runners import host_board
from edgeleak.fl.session import device_round, await_boot
from edgeleak.link.client import DeviceClient
from edgeleak.link.link_errors import PortLost
from edgeleak.link.serial_port import open_serial, reopen_serial
from edgeleak.quantize.artifact import read_head
from edgeleak.train.config import TrainConfig
from edgeleak.train.oracle import flatten_layers


class UsbBoard:
    """A host board behind a by-id style link; ``reset()`` ends it and brings a fresh one back after ``gap`` s."""

    def __init__(self, program, link, gap=0.5):
        self.program, self.link, self.gap = program, link, gap
        self._boards = []
        self.link.symlink_to(self._start())

    def _start(self) -> str:
        board = host_board(self.program)  # started from this thread: its program lives as long as the thread that forked it
        path = board.__enter__()
        self._boards.append(board)
        return path

    def reset(self):
        self.link.unlink()
        self._boards[-1].__exit__(None, None, None)
        path = self._start()
        threading.Timer(self.gap, self.link.symlink_to, (path,)).start()  # back on the bus after a while

    def close(self):
        time.sleep(self.gap + 0.2)
        for board in self._boards:
            board.__exit__(None, None, None)


@pytest.fixture
def usb_board(zoo_models, tmp_path):
    model = load_model_dir(zoo_models["imu_cnn"])
    program = build_for_model(load_boards().get("host"), model.path)[0].program
    board = UsbBoard(program, tmp_path / "usb-edgeleak_board-if00")
    yield model, board
    board.close()


def test_a_port_that_vanishes_is_reported_and_reopened_by_name(usb_board):
    _, board = usb_board
    client = DeviceClient(open_serial(str(board.link)), policy=link_policy(load_boards().get("host")))
    first = client.hello().boot_id
    board.reset()
    with pytest.raises(PortLost, match="usb-edgeleak_board-if00"):
        client.hello()
    reopen_serial(client.port, wait=5.0)
    assert await_boot(client, 5.0).boot_id != first
    client.close()


def test_a_board_that_never_comes_back_ends_in_one_line(usb_board, tmp_path):
    _, board = usb_board
    port = open_serial(str(board.link))
    port.close()
    port.port = str(tmp_path / "gone")  # a board unplugged for good
    with pytest.raises(EdgeleakError, match=r"did not come back on .*gone within 0.5 s"):
        reopen_serial(port, wait=0.5)


def test_a_round_interrupted_by_a_reset_is_redone_on_the_board_that_came_back(usb_board, basic_motions):
    model, board = usb_board
    client = DeviceClient(open_serial(str(board.link)), policy=link_policy(load_boards().get("host")))
    first = client.hello().boot_id
    resets = []

    def reset_once(event, device, round_, session):
        if event == "samples_sent" and not resets:
            resets.append(board)
            board.reset()

    inputs = model.quantize(basic_motions.x_train[:3])
    labels = basic_motions.y_train[:3]
    params = np.concatenate(flatten_layers(read_head(model.artifact)))
    update, attempts = device_round(0, types.SimpleNamespace(client=client), params, inputs, labels,
                                     TrainConfig(learning_rate=0.1, batch_size=3), reset_once)
    assert resets and attempts == 1
    assert update.meta.boot_id != first and update.meta.samples == 3
    client.close()

"""PlatformIO platform class: the class name must be the capitalised platform name without dashes."""

from platformio.public import PlatformBase


class CortexmPlatform(PlatformBase):
    pass

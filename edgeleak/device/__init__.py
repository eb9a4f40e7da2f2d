"""Orchestration of a model on a board: build it in, start the board, talk to it, run inputs."""

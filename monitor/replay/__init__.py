"""Replay and load-test toolkit: generate, dump, replay, load-test and score."""

"""The toolkit: generate, dump, replay, load-test, score and the demo."""

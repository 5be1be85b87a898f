"""The Faust worker: the app, its topics and tables, ingest and the agents (load, decide with domain, store, emit)."""

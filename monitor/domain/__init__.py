"""The domain: pure decision rules and the state they decide on, as functions of plain data and event time.

Nothing here imports Faust, Kafka or the worker (a test checks it), so every rule has fast table tests and the
backtest runs the same code in one process.
"""

"""State kept in RocksDB-backed Faust tables, and the plain data it holds."""

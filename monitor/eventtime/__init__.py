"""Event time: partition clocks, city watermarks and the deadline heap (no Faust, no Kafka)."""

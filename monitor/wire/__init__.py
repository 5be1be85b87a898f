"""What crosses Kafka: the topic contracts, the records, their codecs and the internal protocol."""

"""Operations: the local Kafka broker, topic administration, the state directory and operator commands."""
